"""Customer-success operations: onboarding phases, implementation-to-support handoffs, CSM
workload and out-of-office cover. Decisions over the model (pure where they can be; covers are
read and stored here); sync acts on them through the outbox."""
