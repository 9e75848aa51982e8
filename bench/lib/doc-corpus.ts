import fs from 'node:fs';
import path from 'node:path';
import { makeDocx, makeOdt, makePdf } from '../../test/indexer/extract/fixtures.js';
import { writeHostileCorpus } from '../../test/fixtures/hostile/corpus.js';
import type { Rng } from './rng.js';

/**
 * The chaos corpus: a few thousand ordinary documents (text, Markdown, HTML, CSV, PDF, docx, odt),
 * each with a token only it contains, plus the hostile subset the resilience tests use. Generated,
 * never committed.
 */

const WORDS = 'alpha bravo charlie delta echo foxtrot golf hotel india juliet kilo lima mike november oscar papa quebec romeo sierra tango uniform victor whiskey xray yankee zulu report budget meeting invoice summary draft quarterly figures'.split(' ');

export interface ChaosCorpus {
  /** Every file Owlet must have indexed (absolute paths), keyed by its unique token. */
  good: Map<string, string>;
  /** The hostile subset's root (its files are judged by the resilience tests, not here). */
  hostileRoot: string;
}

function prose(rng: Rng, words: number): string {
  const out: string[] = [];
  for (let i = 0; i < words; i++) out.push(rng.pick(WORDS));
  return out.join(' ');
}

export function tokenFor(i: number | string): string {
  return `chaos${i}tok`;
}

/** Writes one ordinary document of a kind chosen by i; returns its path. */
export function writeDocument(dir: string, i: number | string, rng: Rng, kind = rng.int(0, 9)): string {
  const tok = tokenFor(i);
  const body = `${prose(rng, 40)} ${tok} ${prose(rng, 80)}`;
  let p: string;
  let data: string | Uint8Array;
  switch (kind) {
    case 0:
      p = `doc-${i}.pdf`;
      data = makePdf({ pages: [body, prose(rng, 60)], title: `Document ${i}` });
      break;
    case 1:
      p = `doc-${i}.docx`;
      data = makeDocx({ paragraphs: [body, prose(rng, 50)], title: `Document ${i}` });
      break;
    case 2:
      p = `doc-${i}.odt`;
      data = makeOdt({ paragraphs: [body, prose(rng, 50)], title: `Document ${i}` });
      break;
    case 3:
      p = `doc-${i}.html`;
      data = `<!doctype html><html lang="en"><head><title>Document ${i}</title></head><body><h1>Document ${i}</h1><p>${body}</p></body></html>`;
      break;
    case 4:
      p = `doc-${i}.md`;
      data = `# Document ${i}\n\n${body}\n`;
      break;
    case 5:
      p = `doc-${i}.csv`;
      data = `id,word,note\n${i},${tok},${prose(rng, 10)}\n`;
      break;
    default:
      p = `doc-${i}.txt`;
      data = `${body}\n`;
  }
  const file = path.join(dir, p);
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(file, data);
  return file;
}

export function writeChaosCorpus(root: string, files: number, rng: Rng, opts: { hostile?: boolean } = {}): ChaosCorpus {
  const good = new Map<string, string>();
  for (let i = 0; i < files; i++) {
    const dir = path.join(root, 'docs', `d${i % 40}`, i % 3 === 0 ? 'nested' : '');
    good.set(tokenFor(i), writeDocument(dir, i, rng));
  }
  const hostileRoot = path.join(root, 'hostile-set');
  if (opts.hostile ?? true) {
    const h = writeHostileCorpus(hostileRoot, 64 * 1024 * 1024);
    for (const g of h.good) good.set(g.token, g.path);
  }
  return { good, hostileRoot };
}
