"""The network: activations and losses (each value beside its derivative), layouts, forward and backward."""
