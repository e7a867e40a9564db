"""Model definitions of the zoo: dlradar's own small networks and wrappers around library models."""
