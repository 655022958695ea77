"""Example configuration and extensions: copy them into your own package to customise Orchestra."""
