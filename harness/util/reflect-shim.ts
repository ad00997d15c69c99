// A minimal Reflect metadata API: @peculiar/x509 (through tsyringe) refuses to load without one, and no polyfill
// package is installed. Must be imported before @peculiar/x509 — by harness/util/pki.ts and the mesh CA alike.

type Key = string | symbol | undefined;
const store = new WeakMap<object, Map<Key, Map<unknown, unknown>>>();

function table(target: object, property: Key, create: boolean): Map<unknown, unknown> | undefined {
  let byProperty = store.get(target);
  if (!byProperty) {
    if (!create) return undefined;
    byProperty = new Map();
    store.set(target, byProperty);
  }
  let entries = byProperty.get(property);
  if (!entries && create) {
    entries = new Map();
    byProperty.set(property, entries);
  }
  return entries;
}

interface ReflectMetadata {
  getMetadata?: unknown;
}

const reflect = Reflect as unknown as ReflectMetadata & Record<string, unknown>;
if (reflect.getMetadata === undefined) {
  const getOwn = (key: unknown, target: object, property?: Key): unknown =>
    table(target, property, false)?.get(key);
  const get = (key: unknown, target: object, property?: Key): unknown => {
    for (let t: object | null = target; t !== null; t = Object.getPrototypeOf(t) as object | null) {
      const entries = table(t, property, false);
      if (entries?.has(key)) return entries.get(key);
    }
    return undefined;
  };
  const define = (key: unknown, value: unknown, target: object, property?: Key): void => {
    table(target, property, true)?.set(key, value);
  };
  Object.assign(reflect, {
    getOwnMetadata: getOwn,
    getMetadata: get,
    defineMetadata: define,
    hasOwnMetadata: (key: unknown, target: object, property?: Key) =>
      table(target, property, false)?.has(key) ?? false,
    hasMetadata: (key: unknown, target: object, property?: Key) => get(key, target, property) !== undefined,
    metadata: (key: unknown, value: unknown) => (target: object, property?: Key) =>
      define(key, value, target, property),
  });
}

export {};
