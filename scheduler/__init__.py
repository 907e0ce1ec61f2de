"""The dispatcher: pairs free agents with waiting callbacks, dials, paces, retries and reconciles."""
