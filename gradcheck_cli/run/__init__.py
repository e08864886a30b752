"""Running specs: one spec (load, build, witness, verdict), many specs in processes, discovery, progress, budgets."""
