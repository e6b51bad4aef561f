// outcome: Canvas's outcome events (ours: Instructure emits no Caliper for them). See docs/mapping-rules.md.
export {};
