"""The paper tracker: sources -> parse -> normalise -> deduplicate -> tag -> store."""
