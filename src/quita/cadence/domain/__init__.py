"""Pure cadence logic: definitions, matching, step selection, template parameters."""
