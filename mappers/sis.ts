// sis: Canvas's sis events (ours: Instructure emits no Caliper for them). See docs/mapping-rules.md.
export {};
