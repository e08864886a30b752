"""The names of the witness's methods and engines: what the command line offers as choices, in a
module that imports nothing, so that ``gradcheck --help`` does not load numpy."""

METHODS = ("central", "richardson", "complex")
ENGINES = ("fast", "stack", "naive")  # fast.py with and without its fitted loss; central.py's plain loop
