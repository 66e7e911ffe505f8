"""Customer-success operations: onboarding phases, implementation-to-support handoffs, CSM
workload and out-of-office cover. Pure decisions over the model; sync acts on them."""
