"""gradcheck: verify backpropagation derivations against central finite differences."""

__version__ = "0.1.0"
