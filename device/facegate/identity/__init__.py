"""Who is this: the encrypted gallery, enrolment, matching and its calibration."""
