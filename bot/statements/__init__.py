"""Customer statements: drafted from templates, approved by comms, then published."""
