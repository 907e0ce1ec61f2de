"""What every feature shares: settings, database, clock, phone policy, logging, auth."""
