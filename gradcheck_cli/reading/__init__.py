"""Reading a spec: the preflight, the YAML loader, the models, the data, the memory guard, the build."""
