// SPDX-License-Identifier: MIT
// The reference for docs/templates.md and test/templates: plain Drain (He et al., ICWS 2017) as the
// LogPAI benchmark's Drain.py runs it: depth 4 (one token layer under the length layer), similarity
// threshold 0.5, at most 100 children per node, and only the benchmark's generic number mask
// `(?<=[^A-Za-z0-9])(\-?\+?\d+)(?=[^A-Za-z0-9])|[0-9]+$`, on the whole raw line (no log format, so
// no header split). Not part of the library: src/templates is what logtriage ships.

const WILDCARD = '<*>';
const NUMBER = /(?<=[^A-Za-z0-9])(-?\+?\d+)(?=[^A-Za-z0-9])|[0-9]+$/g;
const hasNumbers = (s: string) => /\d/.test(s);

interface Cluster {
  template: string[];
  lines: number[];
}

interface TreeNode {
  children: Map<string, TreeNode>;
  clusters: Cluster[];
}

const newNode = (): TreeNode => ({ children: new Map(), clusters: [] });

export interface PlainDrainOptions {
  depth?: number;
  similarity?: number;
  maxChildren?: number;
}

export class PlainDrain {
  private readonly depth: number;
  private readonly st: number;
  private readonly maxChild: number;
  private readonly root = newNode();
  private readonly clusters: Cluster[] = [];

  constructor(options: PlainDrainOptions = {}) {
    this.depth = (options.depth ?? 4) - 2;
    this.st = options.similarity ?? 0.5;
    this.maxChild = options.maxChildren ?? 100;
  }

  /** Adds line number `lineId` (any key) with its text. */
  add(lineId: number, line: string): void {
    const seq = line.replace(NUMBER, WILDCARD).trim().split(/\s+/).filter((t) => t.length > 0);
    const match = this.search(seq);
    if (match === undefined) {
      const cluster: Cluster = { template: seq, lines: [lineId] };
      this.clusters.push(cluster);
      this.insert(cluster);
    } else {
      match.lines.push(lineId);
      match.template = match.template.map((t, i) => (t === seq[i] ? t : WILDCARD));
    }
  }

  /** Each line's final template text, by line id (LogPAI groups lines by this string). */
  templatesByLine(): Map<number, string> {
    const out = new Map<number, string>();
    for (const c of this.clusters) for (const id of c.lines) out.set(id, c.template.join(' '));
    return out;
  }

  private search(seq: string[]): Cluster | undefined {
    const byLength = this.root.children.get(String(seq.length));
    if (byLength === undefined) return undefined;
    let node: TreeNode = byLength;
    let current = 1;
    for (const token of seq) {
      if (current >= this.depth || current > seq.length) break;
      const next: TreeNode | undefined = node.children.get(token) ?? node.children.get(WILDCARD);
      if (next === undefined) return undefined;
      node = next;
      current++;
    }
    let best: Cluster | undefined;
    let maxSim = -1;
    let maxParams = -1;
    for (const c of node.clusters) {
      let same = 0;
      let params = 0;
      for (let i = 0; i < c.template.length; i++) {
        if (c.template[i] === WILDCARD) params++;
        else if (c.template[i] === seq[i]) same++;
      }
      // Drain.py divides by the length; an empty line has no cluster there (it is never inserted).
      const sim = c.template.length === 0 ? 1 : same / c.template.length;
      if (sim > maxSim || (sim === maxSim && params > maxParams)) {
        maxSim = sim;
        maxParams = params;
        best = c;
      }
    }
    return maxSim >= this.st ? best : undefined;
  }

  private insert(cluster: Cluster): void {
    const seq = cluster.template;
    const key = String(seq.length);
    let node = this.root.children.get(key);
    if (node === undefined) this.root.children.set(key, (node = newNode()));
    let current = 1;
    // Unlike Drain.py, an empty sequence gets its leaf too (Drain.py drops such a cluster from the tree).
    if (seq.length === 0) {
      node.clusters.push(cluster);
      return;
    }
    for (const token of seq) {
      if (current >= this.depth || current > seq.length) {
        node.clusters.push(cluster);
        return;
      }
      const existing = node.children.get(token);
      if (existing !== undefined) {
        node = existing;
      } else if (!hasNumbers(token)) {
        const wild = node.children.get(WILDCARD);
        if (wild !== undefined) {
          if (node.children.size < this.maxChild) node.children.set(token, (node = newNode()));
          else node = wild;
        } else if (node.children.size + 1 < this.maxChild) {
          node.children.set(token, (node = newNode()));
        } else if (node.children.size + 1 === this.maxChild) {
          node.children.set(WILDCARD, (node = newNode()));
        } else {
          node = node.children.get(WILDCARD)!;
        }
      } else {
        let wild = node.children.get(WILDCARD);
        if (wild === undefined) node.children.set(WILDCARD, (wild = newNode()));
        node = wild;
      }
      current++;
    }
    // Drain.py: a sequence shorter than the depth ends the loop without reaching a leaf; it keeps
    // the cluster at the node it stopped on.
    node.clusters.push(cluster);
  }
}
