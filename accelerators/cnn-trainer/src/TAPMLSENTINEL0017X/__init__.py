"""TAPMLSENTINEL0002X"""

__version__ = "0.1.0"
