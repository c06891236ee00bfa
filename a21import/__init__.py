"""a21import: a supervised policy importer for Polish insurance agents."""

__version__ = "0.1.0"
