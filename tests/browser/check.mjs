#!/usr/bin/env node
// Checks every Teams card and docs page found under the given directories with real
// tools, and exits non-zero on any problem:
//
// - Adaptive Cards (a Workflows envelope or a bare card, *.json): parsed, validated and
//   rendered by the `adaptivecards` renderer (with markdown-it) in headless Debian
//   Chromium, targeting card version 1.4; any parse, validation or render event fails.
//   The DOM must show the title and, when the card has an Action.OpenUrl, its button;
//   no data may turn into elements (script, img, svg, iframe). A screenshot of every
//   card goes to build/screenshots/. Payloads must stay under 20,000 bytes.
// - Legacy MessageCards (*.json): structure and size (Teams' own renderer is not
//   available offline).
// - Docs (*.html): pages as they are, snippets (no doctype) wrapped in a minimal page
//   with syncscope.css; all through the Nu HTML Checker (vnu.jar, errors only) and
//   axe-core inside Chromium (no violations). A snippet holds no script; a page at most
//   its own inline one, named by its Content-Security-Policy, and no browser error (a
//   refused style or script) while it loads. Where a page has the filter box, it is
//   reached with Tab, typed into, and must show exactly the matching rows with their
//   count; without scripts every row is there and the box stays hidden. A screenshot of
//   the top of every page (and of it filtered), and of its access map when it has
//   one, goes to build/screenshots/.
// - Pull-request comments (plan.md, `syncscope plan --format markdown`): rendered with
//   markdown-it (HTML allowed, as GitHub allows <sub> and comments) in Chromium with
//   GitHub-like styles; the heading and a table must show, no data may turn into
//   elements. A screenshot of every comment goes to build/screenshots/comments/.
//
// Usage: node tests/browser/check.mjs [DIR ...]   (default: build/samples build/local)
// Run tests/browser/setup.sh first (installs Chromium and the npm tools if missing).

import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { basename, dirname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const repo = resolve(here, '../..');
const require = createRequire(import.meta.url);
const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';
const BUDGET_BYTES = 20_000;
const SCREENSHOTS = join(repo, 'build', 'screenshots');
const WRAPPED = join(repo, 'build', 'browser-check');

const problems = [];
const problem = (file, message) => problems.push(`${relative(process.cwd(), file) || file}: ${message}`);

// ---------------------------------------------------------------- discovery

function walk(dir, out = []) {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) walk(path, out);
    else if (entry.isFile()) out.push(path);
  }
  return out;
}

const args = process.argv.slice(2);
const dirs = (args.length ? args : ['build/samples', 'build/local']).map((d) => resolve(process.cwd(), d));
const files = [];
for (const dir of dirs) {
  if (existsSync(dir) && statSync(dir).isDirectory()) files.push(...walk(dir).sort());
  else console.log(`(skipping ${relative(process.cwd(), dir)}: not there)`);
}

/** A label for output files: the path relative to the repo (or cwd), flattened. */
function label(file) {
  const base = file.startsWith(repo + sep) ? relative(join(repo, 'build'), file) : relative(process.cwd(), file);
  return base.replace(/^(\.\.[/\\])+/, '').replace(/[/\\]/g, '__').replace(/\.(json|html|md)$/, '');
}

const cards = []; // { file, kind: 'adaptive' | 'messagecard', payload, card }
const pages = []; // { file, html, snippet: bool }
const comments = []; // { file, markdown }
for (const file of files) {
  if (file.endsWith('.json')) {
    let json;
    try {
      json = JSON.parse(readFileSync(file, 'utf8'));
    } catch (e) {
      if (/cards?|teams/.test(file)) problem(file, `not valid JSON: ${e.message}`);
      continue;
    }
    if (json && json.type === 'message' && Array.isArray(json.attachments)) {
      cards.push({ file, kind: 'adaptive', payload: json, card: null });
    } else if (json && json.type === 'AdaptiveCard') {
      cards.push({ file, kind: 'adaptive', payload: json, card: json });
    } else if (json && json['@type'] === 'MessageCard') {
      cards.push({ file, kind: 'messagecard', payload: json, card: json });
    }
    // Anything else (groups.json, scope.json, responses) is not a card.
  } else if (file.endsWith('.html')) {
    const html = readFileSync(file, 'utf8');
    pages.push({ file, html, snippet: !/^\uFEFF?\s*<!doctype html/i.test(html) });
  } else if (basename(file) === 'plan.md') {
    comments.push({ file, markdown: readFileSync(file, 'utf8') });
  }
}

// ---------------------------------------------------------------- cards: structure

function bytes(value) {
  return Buffer.byteLength(JSON.stringify(value), 'utf8');
}

for (const c of cards) {
  const size = bytes(c.payload);
  if (size > BUDGET_BYTES) problem(c.file, `payload is ${size} bytes, over the ${BUDGET_BYTES}-byte budget`);
  if (c.kind === 'adaptive' && c.card === null) {
    const a = c.payload.attachments;
    if (a.length !== 1) problem(c.file, `envelope has ${a.length} attachments, expected 1`);
    const first = a[0] || {};
    if (first.contentType !== 'application/vnd.microsoft.card.adaptive') {
      problem(c.file, `attachment contentType is ${JSON.stringify(first.contentType)}`);
    }
    c.card = first.content || {};
  }
  if (c.kind === 'adaptive') {
    if (c.card.type !== 'AdaptiveCard') problem(c.file, 'content is not an AdaptiveCard');
    if (c.card.version !== '1.4') problem(c.file, `card version is ${JSON.stringify(c.card.version)}, expected "1.4"`);
  } else {
    const m = c.card;
    if (m['@context'] !== 'http://schema.org/extensions') problem(c.file, 'MessageCard without @context http://schema.org/extensions');
    if (!m.summary && !m.text) problem(c.file, 'MessageCard needs summary or text');
    if (m.themeColor !== undefined && !/^[0-9A-Fa-f]{6}$/.test(m.themeColor)) problem(c.file, `themeColor ${m.themeColor} is not 6 hex digits`);
    const actions = m.potentialAction || [];
    if (actions.length > 4) problem(c.file, `${actions.length} potentialActions (at most 4)`);
    for (const action of actions) {
      if (action['@type'] === 'OpenUri' && !(action.targets || []).every((t) => t.os && /^https?:\/\//.test(t.uri || ''))) {
        problem(c.file, 'OpenUri action with a bad target');
      }
    }
    for (const section of m.sections || []) {
      for (const fact of section.facts || []) {
        if (typeof fact.name !== 'string' || typeof fact.value !== 'string') problem(c.file, 'a fact without name/value strings');
      }
    }
  }
}

/** The title we expect to see: the card's fallbackText, else its first text. */
function expectedTitle(card) {
  if (typeof card.fallbackText === 'string' && card.fallbackText) return card.fallbackText;
  const texts = [];
  const visit = (v) => {
    if (Array.isArray(v)) v.forEach(visit);
    else if (v && typeof v === 'object') {
      if (typeof v.text === 'string') texts.push(v.text);
      Object.values(v).forEach(visit);
    }
  };
  visit(card.body || []);
  return texts[0] || '';
}

function expectedButtons(card) {
  return (card.actions || []).filter((a) => a.type === 'Action.OpenUrl').map((a) => a.title || a.url);
}

// ---------------------------------------------------------------- docs: vnu

/** A minimal portal page around a snippet (which carries its own style). */
function wrapSnippet(p) {
  const doc = `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>Snippet check: ${basename(p.file).replace(/[<>&"]/g, '')}</title>
</head>
<body>
<main>
<h1>A portal page that embeds the syncscope snippet</h1>
${p.html}
</main>
</body>
</html>
`;
  mkdirSync(WRAPPED, { recursive: true });
  const out = join(WRAPPED, `${label(p.file)}.wrapped.html`);
  writeFileSync(out, doc);
  return out;
}

for (const p of pages) p.checked = p.snippet ? wrapSnippet(p) : p.file;

function runVnu(list) {
  if (list.length === 0) return;
  const jar = join(here, 'node_modules', 'vnu-jar', 'build', 'dist', 'vnu.jar');
  if (!existsSync(jar)) {
    problems.push(`vnu.jar is missing: run tests/browser/setup.sh`);
    return;
  }
  const run = spawnSync('java', ['-jar', jar, '--errors-only', '--format', 'json', '--exit-zero-always', ...list.map((p) => p.checked)], {
    encoding: 'utf8',
    maxBuffer: 64 * 1024 * 1024,
  });
  if (run.error) {
    problems.push(`the Nu HTML Checker did not run: ${run.error.message}`);
    return;
  }
  let report;
  try {
    report = JSON.parse(run.stderr || run.stdout);
  } catch {
    problems.push(`the Nu HTML Checker said something unexpected: ${(run.stderr || run.stdout).slice(0, 500)}`);
    return;
  }
  const byPath = new Map(list.map((p) => [resolve(p.checked), p]));
  const pathOf = (url) => {
    try {
      return resolve(fileURLToPath(url));
    } catch {
      return url;
    }
  };
  for (const m of report.messages || []) {
    if (m.type !== 'error' && m.subType !== 'fatal') continue;
    const p = byPath.get(pathOf(m.url || ''));
    const where = m.lastLine ? ` (line ${m.lastLine})` : '';
    problem(p ? p.file : m.url || 'vnu', `Nu HTML Checker${p && p.snippet ? ' (snippet, wrapped)' : ''}: ${m.message}${where}`);
  }
}

// ---------------------------------------------------------------- Chromium

async function launch() {
  if (!existsSync(CHROMIUM)) {
    problems.push(`${CHROMIUM} is missing: run tests/browser/setup.sh`);
    return null;
  }
  const { chromium } = require('playwright-core');
  return chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--no-first-run',
    ],
  });
}

const HOST_CONFIG = {
  fontFamily: "'Segoe UI', system-ui, -apple-system, sans-serif",
  supportsInteractivity: true,
  actions: { maxActions: 6, buttonSpacing: 8, showCard: { actionMode: 'inline' } },
};

async function renderCards(browser) {
  const adaptive = cards.filter((c) => c.kind === 'adaptive' && c.card && c.card.type === 'AdaptiveCard');
  if (adaptive.length === 0) return 0;
  const page = await browser.newPage({ viewport: { width: 640, height: 800 } });
  const pageErrors = [];
  page.on('pageerror', (e) => pageErrors.push(e.message));
  await page.setContent(
    '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>cards</title></head>' +
      '<body style="margin:0;background:#f5f5f5"><div id="root" style="width:560px;padding:12px;background:#fff"></div></body></html>',
  );
  await page.addScriptTag({ path: join(here, 'node_modules', 'markdown-it', 'dist', 'browser', 'markdown-it.umd.min.js') });
  await page.addScriptTag({ path: join(here, 'node_modules', 'adaptivecards', 'dist', 'adaptivecards.js') });
  await page.evaluate((hostConfig) => {
    const AC = window.AdaptiveCards;
    const md = window.markdownit();
    AC.AdaptiveCard.onProcessMarkdown = (text, result) => {
      result.outputHtml = md.render(text);
      result.didProcess = true;
    };
    window.renderCard = (json) => {
      const root = document.getElementById('root');
      root.innerHTML = '';
      const problems = [];
      const card = new AC.AdaptiveCard();
      card.hostConfig = new AC.HostConfig(hostConfig);
      const context = new AC.SerializationContext(AC.Versions.v1_4);
      try {
        card.parse(json, context);
      } catch (e) {
        problems.push(`parse threw: ${e.message}`);
      }
      for (let i = 0; i < context.eventCount; i++) {
        const e = context.getEventAt(i);
        problems.push(`parse: ${AC.ValidationEvent[e.event]}: ${e.message}`);
      }
      for (const e of card.validateProperties().validationEvents) {
        problems.push(`validation: ${AC.ValidationEvent[e.event]}: ${e.message}`);
      }
      let element;
      try {
        element = card.render();
      } catch (e) {
        problems.push(`render threw: ${e.message}`);
      }
      if (!element) {
        problems.push('render produced nothing');
        return { problems, text: '', buttons: [], injected: 0 };
      }
      root.appendChild(element);
      return {
        problems,
        text: element.innerText,
        buttons: [...element.querySelectorAll('button')].map((b) => (b.getAttribute('aria-label') || b.innerText).trim()),
        injected: element.querySelectorAll('script, img, svg, iframe, object, embed, a[href^="javascript:"]').length,
      };
    };
  }, HOST_CONFIG);
  let rendered = 0;
  for (const c of adaptive) {
    pageErrors.length = 0;
    const result = await page.evaluate((json) => window.renderCard(json), c.card);
    for (const p of result.problems) problem(c.file, `adaptivecards ${p}`);
    for (const e of pageErrors) problem(c.file, `page error while rendering: ${e}`);
    const title = expectedTitle(c.card);
    const norm = (s) => s.replace(/\s+/g, ' ').trim();
    if (!title) problem(c.file, 'the card has no title text');
    else if (!norm(result.text).includes(norm(title))) problem(c.file, `the rendered card does not show its title ${JSON.stringify(title)}`);
    for (const button of expectedButtons(c.card)) {
      if (!result.buttons.includes(button)) problem(c.file, `the rendered card has no button ${JSON.stringify(button)} (buttons: ${JSON.stringify(result.buttons)})`);
    }
    if (result.injected > 0) problem(c.file, `${result.injected} script/img/svg/iframe element(s) appeared in the rendered card`);
    const shot = join(SCREENSHOTS, 'cards', `${label(c.file)}.png`);
    mkdirSync(dirname(shot), { recursive: true });
    await page.locator('#root').screenshot({ path: shot });
    rendered++;
  }
  await page.close();
  return rendered;
}

/** Checks the filter box of a page (which must show it: its script ran under the page's
 *  policy): reached with Tab, it filters every list by name or description,
 *  case-insensitively, opens the lists with matches, says how many, and clears. */
async function checkFilter(page, p) {
  const q = page.locator('#syncscope-q');
  if (!(await page.locator('#syncscope-filter').isVisible())) {
    problem(p.file, 'the filter box is not visible: its script did not run (blocked by the page\'s Content-Security-Policy?)');
    return;
  }
  // Keyboard: Tab from the top of the page reaches the box.
  let reached = false;
  for (let i = 0; i < 20 && !reached; i++) {
    await page.keyboard.press('Tab');
    reached = await page.evaluate(() => document.activeElement && document.activeElement.id === 'syncscope-q');
  }
  if (!reached) {
    problem(p.file, 'Tab does not reach the filter box');
    return;
  }
  // The query: the middle of the first group's name (else the first listed name), in
  // upper case.
  const name = await page.evaluate(() => {
    const th =
      document.querySelector('#syncscope-groups ~ details table tbody th') || document.querySelector('table[data-syncscope-cols] tbody th');
    return th ? th.textContent : '';
  });
  const query = (name.length > 12 ? name.slice(2, 12) : name).toUpperCase();
  // What should match, worked out here rather than by the page's script.
  const state = (query) =>
    page.evaluate((query) => {
      const q = query.trim().toLowerCase();
      const out = { expected: 0, visible: 0, total: 0, wrong: 0, badOpen: 0, badSummary: 0, open: [], status: '' };
      for (const table of document.querySelectorAll('table[data-syncscope-cols]')) {
        const cols = Number(table.getAttribute('data-syncscope-cols'));
        let hits = 0;
        for (const row of table.tBodies[0].rows) {
          const text = [...row.cells].slice(0, cols).map((c) => c.textContent).join('\n').toLowerCase();
          const hit = !q || text.includes(q);
          const shown = !row.hidden && getComputedStyle(row).display !== 'none';
          out.total++;
          if (hit) hits++;
          if (shown) out.visible++;
          if (hit !== shown) out.wrong++;
        }
        out.expected += hits;
        const details = table.closest('details');
        if (q && details && details.open !== hits > 0) out.badOpen++;
        const shown = details && details.querySelector('summary .syncscope-shown');
        if (details && (!shown || shown.textContent !== (q ? ` (${hits} shown)` : ''))) out.badSummary++;
        out.open.push(details ? details.open : null);
      }
      out.status = document.getElementById('syncscope-matches').textContent;
      return out;
    }, query);
  const before = (await state('')).open;
  await page.keyboard.type(query);
  let s = await state(query);
  if (s.badSummary > 0) problem(p.file, `filter ${JSON.stringify(query)}: ${s.badSummary} list summar(y/ies) without "(N shown)"`);
  if (s.expected === 0) problem(p.file, `filter: the query ${JSON.stringify(query)} matches nothing, expected the first group`);
  if (s.wrong > 0) problem(p.file, `filter ${JSON.stringify(query)}: ${s.wrong} row(s) shown or hidden wrongly (${s.visible} visible, ${s.expected} match)`);
  if (s.badOpen > 0) problem(p.file, `filter ${JSON.stringify(query)}: ${s.badOpen} list(s) open without a match or closed with one`);
  if (s.status !== `${s.expected} of ${s.total} rows match`) problem(p.file, `filter ${JSON.stringify(query)}: the count says ${JSON.stringify(s.status)}, ${s.expected} of ${s.total} match`);
  p.filtered = { query, visible: s.visible, total: s.total };
  const shot = join(SCREENSHOTS, 'docs', `${label(p.file)}.filtered.png`);
  await page.screenshot({ path: shot });
  // Nothing matches, then the box is cleared: everything is back, lists as they were.
  await q.fill('zz-no-such-name-zz');
  s = await state('zz-no-such-name-zz');
  if (s.wrong > 0 || s.badOpen > 0 || s.badSummary > 0) problem(p.file, 'filter: a query matching nothing leaves lists open, rows shown or summaries wrong');
  if (s.visible !== 0 || s.status !== `0 of ${s.total} rows match`) problem(p.file, `filter: a query matching nothing leaves ${s.visible} row(s) and says ${JSON.stringify(s.status)}`);
  await q.fill('');
  s = await state('');
  if (s.visible !== s.total || s.status !== '') problem(p.file, `filter: clearing the box shows ${s.visible} of ${s.total} row(s) and says ${JSON.stringify(s.status)}`);
  if (JSON.stringify(s.open) !== JSON.stringify(before) || s.badSummary > 0) problem(p.file, `filter: clearing the box does not restore the lists as they were (open or collapsed, summaries): ${JSON.stringify(before)} then ${JSON.stringify(s.open)}, ${s.badSummary} summaries`);
}

async function checkPages(browser) {
  const axeSource = readFileSync(join(here, 'node_modules', 'axe-core', 'axe.min.js'), 'utf8');
  const noScript = await browser.newContext({ javaScriptEnabled: false, viewport: { width: 1280, height: 900 } });
  await noScript.route(/^(?!file:)/, (route) => route.abort());
  let checked = 0;
  for (const p of pages) {
    const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    // Nothing leaves the machine: only the file itself loads.
    await page.route(/^(?!file:)/, (route) => route.abort());
    const refused = [];
    page.on('console', (m) => {
      if (m.type() === 'error') refused.push(m.text());
    });
    page.on('pageerror', (e) => refused.push(e.message));
    try {
      await page.goto(pathToFileURL(p.checked).href, { waitUntil: 'load' });
      const facts = await page.evaluate(() => {
        const main = document.querySelector('main');
        return {
          scripts: document.querySelectorAll('script').length,
          external: document.querySelectorAll('script[src]').length,
          inMain: main ? main.querySelectorAll('script').length + (main.innerHTML.includes('<script') ? 1 : 0) : 0,
          csp: (document.querySelector('meta[http-equiv="Content-Security-Policy" i]') || {}).content || '',
          lang: document.documentElement.lang,
          title: document.title,
          h1: document.querySelectorAll('h1').length,
          rows: document.querySelectorAll('tbody tr').length,
          filter: !!document.getElementById('syncscope-q'),
        };
      });
      // A snippet holds no script; a page at most its own inline one, under its own policy.
      if (p.snippet && facts.scripts > 0) problem(p.file, `the snippet holds ${facts.scripts} script element(s)`);
      if (facts.external > 0) problem(p.file, `${facts.external} external script(s)`);
      if (facts.inMain > 0) problem(p.file, 'a script inside the page\'s content');
      if (!p.snippet && facts.scripts > 1) problem(p.file, `${facts.scripts} script elements (expected at most the filter box's)`);
      if (!p.snippet && facts.scripts > 0 && !/script-src '[^']+'/.test(facts.csp)) problem(p.file, `a script without a Content-Security-Policy that names it (${JSON.stringify(facts.csp)})`);
      if (!facts.lang) problem(p.file, 'no lang on <html>');
      if (!facts.title) problem(p.file, 'no <title>');
      if (facts.h1 !== 1) problem(p.file, `${facts.h1} h1 elements (expected 1)`);
      const shot = join(SCREENSHOTS, 'docs', `${label(p.file)}.png`);
      mkdirSync(dirname(shot), { recursive: true });
      await page.screenshot({ path: shot });
      // The access map (what the groups grant, by account), when the page has one.
      const access = page.locator('section[aria-labelledby="syncscope-access"]');
      if (await access.count()) {
        await access.screenshot({ path: join(SCREENSHOTS, 'docs', `${label(p.file)}.access.png`) });
      }
      // axe goes in through the debugging protocol: the page's policy admits no script
      // but its own.
      await page.evaluate(axeSource);
      const violations = await page.evaluate(async () => {
        const result = await window.axe.run(document, { resultTypes: ['violations'] });
        return result.violations.map((v) => ({
          id: v.id,
          impact: v.impact,
          help: v.help,
          count: v.nodes.length,
          target: v.nodes[0] ? v.nodes[0].target.join(' ') : '',
        }));
      });
      for (const v of violations) {
        problem(p.file, `axe ${v.id} (${v.impact}): ${v.help}; ${v.count} node(s), e.g. ${v.target}${p.snippet ? ' (snippet, wrapped)' : ''}`);
      }
      if (facts.filter) await checkFilter(page, p);
      for (const message of refused) problem(p.file, `browser error: ${message}`);
      // Without scripts: every row is on the page and the box stays hidden.
      const plain = await noScript.newPage();
      try {
        await plain.goto(pathToFileURL(p.checked).href, { waitUntil: 'load' });
        const rows = await plain.locator('tbody tr').count();
        if (rows !== facts.rows) problem(p.file, `without scripts ${rows} table rows, with them ${facts.rows}`);
        if (await plain.locator('tbody tr[hidden]').count()) problem(p.file, 'without scripts some rows are hidden');
        if (facts.filter && (await plain.locator('#syncscope-filter').isVisible())) problem(p.file, 'without scripts the filter box shows (it cannot work)');
      } finally {
        await plain.close();
      }
      checked++;
    } catch (e) {
      problem(p.file, `Chromium could not check the page: ${e.message}`);
    } finally {
      await page.close();
    }
  }
  await noScript.close();
  return checked;
}

// GitHub's comment look, close enough to judge the layout.
const COMMENT_CSS = `
  body { margin: 0; background: #f6f8fa; font: 14px/1.5 -apple-system, 'Segoe UI', system-ui, sans-serif; color: #1f2328; }
  #root { width: 860px; margin: 16px; padding: 16px 24px; background: #fff; border: 1px solid #d1d9e0; border-radius: 6px; }
  h3 { font-size: 1.25em; margin: 8px 0 16px; } h4 { font-size: 1em; margin: 24px 0 12px; }
  table { border-collapse: collapse; margin: 0 0 16px; display: block; overflow: auto; }
  th, td { border: 1px solid #d1d9e0; padding: 6px 13px; } tr:nth-child(2n) { background: #f6f8fa; }
  code { background: #eff1f3; border-radius: 6px; padding: .2em .4em; font-size: 85%; }
  sub { color: #59636e; }`;

async function renderComments(browser) {
  if (comments.length === 0) return 0;
  const page = await browser.newPage({ viewport: { width: 900, height: 900 } });
  await page.route(/^(?!about:|data:)/, (route) => route.abort());
  await page.setContent(
    `<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>comment</title><style>${COMMENT_CSS}</style></head>` +
      '<body><div id="root"></div></body></html>',
  );
  await page.addScriptTag({ path: join(here, 'node_modules', 'markdown-it', 'dist', 'browser', 'markdown-it.umd.min.js') });
  let rendered = 0;
  for (const c of comments) {
    const result = await page.evaluate((markdown) => {
      const root = document.getElementById('root');
      root.innerHTML = window.markdownit({ html: true, linkify: false }).render(markdown);
      return {
        heading: (root.querySelector('h3') || {}).innerText || '',
        tables: root.querySelectorAll('table').length,
        injected: root.querySelectorAll('script, img, svg, iframe, object, embed, a[href^="javascript:"]').length,
      };
    }, c.markdown);
    if (!result.heading.startsWith('syncscope plan')) problem(c.file, `the rendered comment does not start with the plan's heading (${JSON.stringify(result.heading)})`);
    if (result.tables === 0) problem(c.file, 'the rendered comment shows no table');
    if (result.injected > 0) problem(c.file, `${result.injected} script/img/svg/iframe element(s) appeared in the rendered comment`);
    const shot = join(SCREENSHOTS, 'comments', `${label(c.file)}.png`);
    mkdirSync(dirname(shot), { recursive: true });
    await page.locator('#root').screenshot({ path: shot });
    rendered++;
  }
  await page.close();
  return rendered;
}

// ---------------------------------------------------------------- main

const started = Date.now();
runVnu(pages);
let rendered = 0;
let checked = 0;
let commented = 0;
if (cards.length + pages.length + comments.length > 0) {
  const browser = await launch();
  if (browser) {
    try {
      rendered = await renderCards(browser);
      checked = await checkPages(browser);
      commented = await renderComments(browser);
    } finally {
      await browser.close();
    }
  }
}
const legacy = cards.filter((c) => c.kind === 'messagecard').length;
const snippets = pages.filter((p) => p.snippet).length;
console.log(
  `checked ${cards.length} card(s): ${rendered} Adaptive Card(s) rendered in Chromium, ${legacy} MessageCard(s) checked for structure; ` +
    `${pages.length} HTML file(s) (${pages.length - snippets} page(s), ${snippets} snippet(s)) through vnu and axe-core (${checked} in Chromium); ` +
    `${commented} pull-request comment(s) rendered; ` +
    `screenshots in ${relative(process.cwd(), SCREENSHOTS)}; ${((Date.now() - started) / 1000).toFixed(1)} s`,
);
if (cards.length + pages.length + comments.length === 0) {
  console.error('nothing to check: no cards, pages or comments in ' + dirs.map((d) => relative(process.cwd(), d)).join(', '));
  process.exit(1);
}
if (problems.length > 0) {
  console.error(`\n${problems.length} problem(s):`);
  for (const p of problems) console.error(`  ✗ ${p}`);
  process.exit(1);
}
console.log('all checks passed');
