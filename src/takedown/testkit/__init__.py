"""Test kit: local fakes of outside services (never real platforms)."""
