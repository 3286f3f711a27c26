// Tokenizes every example policy and every fw block of docs/language.md
// with editors/textmate/fwc.tmLanguage.json, through vscode-textmate and
// vscode-oniguruma as VS Code does, and checks what each token is given.
// Run: npm ci && npm test (scripts/test.sh does).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const vsctm = require('vscode-textmate');
const oniguruma = require('vscode-oniguruma');

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, '..', '..');

async function loadGrammar() {
  const wasm = fs.readFileSync(require.resolve('vscode-oniguruma/release/onig.wasm'));
  await oniguruma.loadWASM(wasm.buffer.slice(wasm.byteOffset, wasm.byteOffset + wasm.byteLength));
  const registry = new vsctm.Registry({
    onigLib: Promise.resolve({
      createOnigScanner: (s) => new oniguruma.OnigScanner(s),
      createOnigString: (s) => new oniguruma.OnigString(s),
    }),
    loadGrammar: async () => {
      const p = path.join(root, 'editors', 'textmate', 'fwc.tmLanguage.json');
      return vsctm.parseRawGrammar(fs.readFileSync(p, 'utf8'), p);
    },
  });
  return registry.loadGrammar('source.fwc');
}

// The keywords of the language: every quoted word of the grammar.
const keywords = [...new Set([...fs.readFileSync(path.join(root, 'docs', 'grammar.ebnf'), 'utf8')
  .matchAll(/"([A-Za-z][A-Za-z0-9_-]*)"/g)].map((m) => m[1]))].sort();

// The sources: examples/**/*.fw and the fw blocks of the language reference.
function sources() {
  const out = [];
  const walk = (dir) => {
    for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
      const p = path.join(dir, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.name.endsWith('.fw')) out.push({ name: path.relative(root, p), text: fs.readFileSync(p, 'utf8') });
    }
  };
  walk(path.join(root, 'examples'));
  const doc = fs.readFileSync(path.join(root, 'docs', 'language.md'), 'utf8');
  let n = 0;
  for (const m of doc.matchAll(/```fw\n([\s\S]*?)```/g)) {
    out.push({ name: `docs/language.md block ${++n}`, text: m[1] });
  }
  return out;
}

function tokenize(grammar, text) {
  const lines = [];
  let stack = vsctm.INITIAL;
  for (const line of text.split('\n')) {
    const r = grammar.tokenizeLine(line, stack);
    lines.push({
      line,
      atInitial: r.ruleStack.depth === 1,
      tokens: r.tokens.map((t) => ({ text: line.slice(t.startIndex, t.endIndex), scopes: t.scopes })),
    });
    stack = r.ruleStack;
  }
  return lines;
}

const has = (tok, prefix) => tok.scopes.some((s) => s.startsWith(prefix));

test('every keyword of the grammar is scoped as a keyword', async () => {
  const grammar = await loadGrammar();
  assert.ok(keywords.length > 50, `only ${keywords.length} keywords found in docs/grammar.ebnf`);
  for (const kw of keywords) {
    const [{ tokens }] = tokenize(grammar, `${kw}`);
    assert.equal(tokens.length, 1, `${kw}: ${JSON.stringify(tokens)}`);
    assert.ok(has(tokens[0], 'keyword.'), `${kw} is scoped ${tokens[0].scopes.join(' ')}`);
  }
});

test('examples and docs: each token gets its scope, no line in an error state', async () => {
  const grammar = await loadGrammar();
  const srcs = sources();
  assert.ok(srcs.length > 20, `only ${srcs.length} sources`);
  const seen = { keyword: 0, string: 0, comment: 0, address: 0, number: 0 };
  for (const src of srcs) {
    tokenize(grammar, src.text).forEach(({ line, atInitial, tokens }, i) => {
      const at = `${src.name}:${i + 1}: ${line}`;
      assert.ok(atInitial, `${at}: the line leaves the grammar inside a construct`);
      for (const tok of tokens) {
        assert.ok(!has(tok, 'invalid'), `${at}: ${JSON.stringify(tok.text)} is invalid`);
        const t = tok.text;
        if (has(tok, 'comment') || has(tok, 'string')) {
          seen[has(tok, 'comment') ? 'comment' : 'string']++;
          assert.ok(t.startsWith('#') || t.startsWith('"'), `${at}: ${JSON.stringify(t)} scoped ${tok.scopes}`);
          continue;
        }
        if (keywords.includes(t)) {
          seen.keyword++;
          assert.ok(has(tok, 'keyword.'), `${at}: keyword ${t} scoped ${tok.scopes.join(' ')}`);
        } else if (/^\d{1,3}(\.\d{1,3}){3}(\/\d{1,2})?$/.test(t) || /^[0-9a-fA-F]{0,4}(:[0-9a-fA-F]{0,4}){2,7}(\/\d{1,3})?$/.test(t)) {
          seen.address++;
          assert.ok(has(tok, 'constant.numeric.address'), `${at}: address ${t} scoped ${tok.scopes.join(' ')}`);
        } else if (/^\d+$/.test(t)) {
          seen.number++;
          assert.ok(has(tok, 'constant.numeric'), `${at}: number ${t} scoped ${tok.scopes.join(' ')}`);
        }
        if (t.startsWith('#') || t.startsWith('"')) {
          assert.fail(`${at}: ${JSON.stringify(t)} is not scoped as a comment or string: ${tok.scopes}`);
        }
      }
    });
  }
  for (const [kind, n] of Object.entries(seen)) {
    assert.ok(n > 0, `no ${kind} token in the examples and docs`);
  }
});

test('an address, a port, a string and a comment on one line', async () => {
  const grammar = await loadGrammar();
  const [{ tokens }] = tokenize(grammar, 'from wan to self saddr 203.0.113.0/24, fd00:1::/64 tcp dport 22 log prefix "ssh: " accept # admins');
  const scope = (text) => tokens.find((t) => t.text.trim() === text)?.scopes.join(' ') ?? 'missing';
  assert.match(scope('from'), /keyword\.declaration/);
  assert.match(scope('saddr'), /keyword\.other/);
  assert.match(scope('203.0.113.0/24'), /constant\.numeric\.address\.ipv4/);
  assert.match(scope('fd00:1::/64'), /constant\.numeric\.address\.ipv6/);
  assert.match(scope('22'), /constant\.numeric\.fwc/);
  assert.match(scope('"ssh: "'), /string\.quoted\.double/);
  assert.match(scope('accept'), /keyword\.control\.verdict/);
  assert.match(scope('# admins'), /comment\.line/);
  const [{ tokens: bad }] = tokenize(grammar, 'log prefix "unclosed');
  assert.ok(bad.some((t) => has(t, 'invalid')), 'an unclosed string is not marked invalid');
});
