"""SQLAlchemy implementations of core's repository ports, and storage's own stores."""
