"""Local fakes of the services LeadLoop Bot talks to, for tests."""
