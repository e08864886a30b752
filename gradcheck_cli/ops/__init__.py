"""The math: activations and losses, each with its value and its derivative side by side."""
