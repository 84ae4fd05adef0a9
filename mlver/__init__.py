"""mlver: git-native data and model versioning.

Importing this package is cheap: nothing heavy loads until a verb is used.
"""
__version__ = "0.1.0"
