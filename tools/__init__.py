"""Developer tools: native build, version check, installed-package check."""
