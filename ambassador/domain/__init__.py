"""Business rules. Functions take explicit arguments and never import the web framework."""
