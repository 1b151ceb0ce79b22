// Intentionally empty: the real code is the system libfaiss.a linked by this target.
