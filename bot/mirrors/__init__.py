"""Other status pages kept in step with the statements statusbot publishes."""
