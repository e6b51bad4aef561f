/**
 * A lookup table keyed by input values (asset types, roles, entity types): no prototype, so a key
 * such as `constructor`, `__proto__` or `toString` finds nothing instead of Object's own members.
 */
export const table = <T>(entries: Record<string, T>): Readonly<Record<string, T>> =>
  Object.freeze(Object.assign(Object.create(null) as Record<string, T>, entries));
