"""The only importers of their library; each turns its errors into MlverError."""
