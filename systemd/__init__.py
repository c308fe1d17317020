"""The systemd units, installed as ``facegate.units`` so ``facegate provision`` finds them."""
