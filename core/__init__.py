"""The base layer: database opening and migrations, configuration, errors, output formats and the
shared vocabulary (the family taxonomy as data, name folding). It imports no part of dlradar."""

__version__ = "0.1.0"
