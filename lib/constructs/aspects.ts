import { IConstruct } from 'constructs';

/** Visits constructs before synth: to add settings to many at once, or to forbid some. */
export interface IAspect {
  visit(node: IConstruct): void;
}

const ASPECTS = Symbol.for('kiln.Aspects');

/**
 * The aspects applied to a scope and everything below it. Like the CDK's:
 * `Aspects.of(app).add(new RequireLabel('team'))`.
 */
export class Aspects {
  public static of(scope: IConstruct): Aspects {
    const holder = scope as unknown as Record<symbol, Aspects | undefined>;
    let aspects = holder[ASPECTS];
    if (!aspects) {
      aspects = new Aspects();
      Object.defineProperty(scope, ASPECTS, { value: aspects, enumerable: false });
    }
    return aspects;
  }

  private readonly list: IAspect[] = [];

  private constructor() {}

  public add(aspect: IAspect): void {
    this.list.push(aspect);
  }

  public get all(): readonly IAspect[] {
    return [...this.list];
  }
}

const INVOKED = Symbol.for('kiln.InvokedAspects');

/**
 * Which aspects each construct has been visited by, kept on the tree's root:
 * a second invocation (e.g. a fingerprint asked for before `App.synth()`)
 * visits nothing twice.
 */
function invokedAspects(root: IConstruct): Map<IConstruct, Set<IAspect>> {
  const holder = root.node.root as unknown as Record<symbol, Map<IConstruct, Set<IAspect>> | undefined>;
  let done = holder[INVOKED];
  if (!done) {
    done = new Map();
    Object.defineProperty(holder, INVOKED, { value: done, enumerable: false });
  }
  return done;
}

/**
 * Applies every aspect to every construct below the scope it was added to,
 * parents before children. Constructs that aspects add are visited too.
 */
export function invokeAspects(root: IConstruct): void {
  const done = invokedAspects(root);
  for (let pass = 0; pass < 10; pass++) {
    let visited = false;
    const walk = (c: IConstruct, inherited: readonly IAspect[]) => {
      const own = (c as unknown as Record<symbol, Aspects | undefined>)[ASPECTS]?.all ?? [];
      const all = [...inherited, ...own];
      let seen = done.get(c);
      if (!seen) done.set(c, (seen = new Set()));
      for (const a of all) {
        if (seen.has(a)) continue;
        seen.add(a);
        a.visit(c);
        visited = true;
      }
      for (const child of c.node.children) walk(child, all);
    };
    walk(root, []);
    if (!visited) return;
  }
}
