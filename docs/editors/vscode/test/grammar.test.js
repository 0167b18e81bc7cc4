// Tokenizes Flow code with the TextMate grammar, using the engine VS Code uses
// (vscode-textmate + vscode-oniguruma), and checks the scopes of chosen tokens.
//
//     npm install && npm run test:grammar
//
// Runs with Node's built-in test runner; the engine packages are devDependencies.
'use strict';

const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const { test } = require('node:test');

const oniguruma = require('vscode-oniguruma');
const vsctm = require('vscode-textmate');

const EXTENSION = path.join(__dirname, '..');
const REPO = path.join(EXTENSION, '..', '..', '..');
const GRAMMAR = path.join(EXTENSION, 'syntaxes', 'flow.tmLanguage.json');

/** @type {Promise<vsctm.IGrammar>} */
const grammarPromise = (async () => {
  const wasm = fs.readFileSync(require.resolve('vscode-oniguruma/release/onig.wasm'));
  await oniguruma.loadWASM(wasm.buffer.slice(wasm.byteOffset, wasm.byteOffset + wasm.byteLength));
  const registry = new vsctm.Registry({
    onigLib: Promise.resolve({
      createOnigScanner: (sources) => new oniguruma.OnigScanner(sources),
      createOnigString: (text) => new oniguruma.OnigString(text),
    }),
    loadGrammar: async (scopeName) => {
      if (scopeName !== 'source.flow') return null;
      return vsctm.parseRawGrammar(fs.readFileSync(GRAMMAR, 'utf8'), GRAMMAR);
    },
  });
  const grammar = await registry.loadGrammar('source.flow');
  if (!grammar) throw new Error('grammar source.flow did not load');
  return grammar;
})();

/**
 * @typedef {{ start: number, end: number, text: string, scopes: string[] }} Token
 * @typedef {{ text: string, tokens: Token[] }} Line
 */

/** @param {string} source @returns {Promise<Line[]>} */
async function tokenize(source) {
  const grammar = await grammarPromise;
  let state = vsctm.INITIAL;
  return source.split(/\r?\n/).map((text) => {
    const result = grammar.tokenizeLine(text, state);
    state = result.ruleStack;
    const tokens = result.tokens.map((t) => ({
      start: t.startIndex,
      end: Math.min(t.endIndex, text.length),
      text: text.slice(t.startIndex, Math.min(t.endIndex, text.length)),
      scopes: t.scopes,
    }));
    return { text, tokens };
  });
}

/**
 * The tokens that cover `target` in the first line that contains `anchor` (at or after line
 * `from`). `nth` picks a later occurrence of `target` in that line.
 * @param {Line[]} lines @param {string} anchor @param {string} target
 * @param {{ nth?: number, from?: number }} [options]
 */
function tokensOf(lines, anchor, target, options = {}) {
  const { nth = 0, from = 0 } = options;
  const index = lines.findIndex((line, i) => i >= from && line.text.includes(anchor));
  assert.notEqual(index, -1, `no line contains ${JSON.stringify(anchor)}`);
  const line = lines[index];
  let at = -1;
  for (let i = 0; i <= nth; i += 1) {
    at = line.text.indexOf(target, at + 1);
    assert.notEqual(at, -1, `${JSON.stringify(target)} (#${nth}) not in line ${index + 1}`);
  }
  const tokens = line.tokens.filter((t) => t.start < at + target.length && at < t.end);
  return { tokens, where: `${JSON.stringify(target)} in line ${index + 1}: ${line.text.trim()}` };
}

/**
 * Checks a table of [anchor, target, scope, nth?] rows: every token of `target` carries
 * `scope`, or, for a scope written "!prefix", no token of it has a scope starting with prefix.
 * @param {Line[]} lines
 * @param {Array<[string, string, string] | [string, string, string, number]>} rows
 */
function expectScopes(lines, rows) {
  const failures = [];
  for (const [anchor, target, scope, nth] of rows) {
    const { tokens, where } = tokensOf(lines, anchor, target, { nth });
    const ok = scope.startsWith('!')
      ? !tokens.some((t) => t.scopes.some((s) => s.startsWith(scope.slice(1))))
      : tokens.every((t) => t.scopes.includes(scope));
    if (!ok) {
      const got = tokens.map((t) => `${JSON.stringify(t.text)}: ${t.scopes.slice(1).join(' ') || '-'}`);
      failures.push(`${where}\n    expected ${scope}, got ${got.join(' | ')}`);
    }
  }
  assert.deepEqual(failures, [], `\n${failures.join('\n')}`);
}

test('examples/weather.flow gets the intended scopes', async () => {
  const lines = await tokenize(fs.readFileSync(path.join(REPO, 'examples', 'weather.flow'), 'utf8'));
  expectScopes(lines, [
    // comments
    ['// weather.flow:', '// weather.flow: poll a weather API', 'comment.line.double-slash.flow'],
    ['const OPEN_METEO_TIME', '// open-meteo omits seconds', 'comment.line.double-slash.flow'],
    ['const OPEN_METEO_TIME', '//', 'punctuation.definition.comment.flow'],
    // declarations
    ['const CITY', 'const', 'storage.type.const.flow'],
    ['const CITY', 'CITY', 'variable.other.constant.flow'],
    ['const HEAT_ALERT_ABOVE', '35.0', 'constant.numeric.float.flow'],
    ['fn c_to_f', 'fn', 'storage.type.function.flow'],
    ['fn c_to_f', 'c_to_f', 'entity.name.function.flow'],
    ['fn c_to_f', 'c', 'variable.parameter.flow', 1],
    ['fn c_to_f', 'float', 'support.type.primitive.flow'],
    ['fn c_to_f', 'float', 'support.type.primitive.flow', 1],
    ['fn c_to_f', '->', 'keyword.operator.arrow.flow'],
    ['fn c_to_f', 'round', 'entity.name.function.call.flow'],
    ['fn c_to_f', '9.0', 'constant.numeric.float.flow'],
    ['fn c_to_f', '/', 'keyword.operator.arithmetic.flow'],
    ['fn c_to_f', '1', 'constant.numeric.integer.flow'],
    ['source open_meteo', 'source', 'storage.type.connector.flow'],
    ['source open_meteo', 'open_meteo', 'entity.name.type.connector.flow'],
    ['source open_meteo', 'http', 'support.type.connector.flow'],
    ['sink alerts: http', 'sink', 'storage.type.connector.flow'],
    ['pipeline weather from', 'pipeline', 'storage.type.pipeline.flow'],
    ['pipeline weather from', 'weather', 'entity.name.type.pipeline.flow'],
    ['pipeline weather from', 'from', 'keyword.other.from.flow'],
    ['pipeline weather from', 'open_meteo', 'entity.name.type.upstream.flow'],
    ['dashboard weather_board', 'dashboard', 'storage.type.dashboard.flow'],
    ['test "open-meteo', 'test', 'storage.type.test.flow'],
    ['test "open-meteo', '"open-meteo readings are mapped and validated"', 'string.quoted.double.flow'],
    // configuration keys, strings, durations, numbers
    ['url: "https://api.open-meteo.com', 'url', 'support.type.property-name.flow'],
    ['url: "https://api.open-meteo.com', '"https://api.open-meteo.com/v1/forecast"', 'string.quoted.double.flow'],
    ['url: "https://api.open-meteo.com', '//', '!comment'],
    ['headers: {', 'headers', 'support.type.property-name.flow'],
    ['headers: {', '"User-Agent"', 'support.type.property-name.flow'],
    ['headers: {', '"flowc-examples/0.1"', 'string.quoted.double.flow'],
    ['every: 5m', 'every', 'support.type.property-name.flow'],
    ['every: 5m', 'every', '!keyword'],
    ['every: 5m', '5m', 'constant.numeric.duration.flow'],
    ['every: 5m', 'm', 'keyword.other.unit.flow'],
    ['timeout: 10s', '10s', 'constant.numeric.duration.flow'],
    ['retry: 3', '3', 'constant.numeric.integer.flow'],
    ['schema {', 'schema', 'keyword.other.schema.flow'],
    ['time: str', 'time', 'support.type.property-name.flow'],
    ['time: str', 'str', 'support.type.primitive.flow'],
    ['temperature_2m: float', 'temperature_2m', 'support.type.property-name.flow'],
    ['temperature_2m: float', '2m', '!constant.numeric'],
    ['relative_humidity_2m: int?', 'int', 'support.type.primitive.flow'],
    ['relative_humidity_2m: int?', '?', 'keyword.operator.optional.flow'],
    ['auth {', 'auth', 'support.type.property-name.flow'],
    ['value: env("OPENAQ_API_KEY")', 'env', 'entity.name.function.call.flow'],
    ['cron: "*/15 * * * *"', '"*/15 * * * *"', 'string.quoted.double.flow'],
    ['cron: "*/15 * * * *"', '// at minutes', 'comment.line.double-slash.flow'],
    ['parameter: { name: str, units: str }', 'units', 'support.type.property-name.flow'],
    ['parameter: { name: str, units: str }', 'str', 'support.type.primitive.flow', 1],
    // steps and expressions
    ['  map {', 'map', 'keyword.other.step.flow'],
    ['ts       = parse_timestamp', 'ts', 'variable.other.flow'],
    ['ts       = parse_timestamp', '=', 'keyword.operator.assignment.flow'],
    ['ts       = parse_timestamp', 'parse_timestamp', 'entity.name.function.call.flow'],
    ['ts       = parse_timestamp', 'OPEN_METEO_TIME', 'variable.other.constant.flow'],
    ['ts       = parse_timestamp', '??', 'keyword.operator.coalescing.flow'],
    ['ts       = parse_timestamp', 'now', 'entity.name.function.call.flow'],
    ['wind_kmh = wind_speed_10m', '0.0', 'constant.numeric.float.flow'],
    ['  validate {', 'validate', 'keyword.other.step.flow'],
    ['temp_c between -90.0', 'between', 'keyword.operator.expression.flow'],
    ['temp_c between -90.0', '-', 'keyword.operator.arithmetic.flow'],
    ['temp_c between -90.0', '90.0', 'constant.numeric.float.flow'],
    ['temp_c between -90.0', 'and', 'keyword.operator.expression.logical.flow'],
    ['temp_c between -90.0', 'else', 'keyword.control.conditional.flow'],
    ['temp_c between -90.0', 'drop', 'keyword.other.action.flow'],
    ['humidity between 0 and 100', '0', 'constant.numeric.integer.flow'],
    ['humidity between 0 and 100', 'dead_letter', 'keyword.other.action.flow'],
    ['persist timescale weather_readings', 'persist', 'keyword.other.step.flow'],
    ['persist timescale weather_readings', 'timescale', 'keyword.other.timescale.flow'],
    ['persist timescale weather_readings', 'weather_readings', 'entity.name.type.table.flow'],
    ['key: (city, ts)', 'key', 'support.type.property-name.flow'],
    ['chunk: 1d', '1d', 'constant.numeric.duration.flow'],
    ['retention: 90d', '90d', 'constant.numeric.duration.flow'],
    ['cache 100', 'cache', 'keyword.other.step.flow'],
    ['cache 100', '100', 'constant.numeric.integer.flow'],
    ['aggregate every 1h by city', 'aggregate', 'keyword.other.step.flow'],
    ['aggregate every 1h by city', 'every', 'keyword.other.step-modifier.flow'],
    ['aggregate every 1h by city', '1h', 'constant.numeric.duration.flow'],
    ['aggregate every 1h by city', 'by', 'keyword.other.step-modifier.flow'],
    ['aggregate every 1h by city', 'city', 'variable.other.flow'],
    ['readings = count()', 'count', 'entity.name.function.call.flow'],
    ['where temp_c > HEAT_ALERT_ABOVE', 'where', 'keyword.other.step.flow'],
    ['where temp_c > HEAT_ALERT_ABOVE', '>', 'keyword.operator.comparison.flow'],
    ['message = "Heat in "', '++', 'keyword.operator.concatenation.flow'],
    ['message = "Heat in "', 'str', 'entity.name.function.call.flow'],
    ['message = "Heat in "', 'str', '!support.type'],
    ['select ts, city', 'select', 'keyword.other.step.flow'],
    ['persist off', 'off', 'keyword.other.off.flow'],
    ['  sink alerts', 'sink', 'keyword.other.step.flow'],
    ['parse_timestamp(period.datetimeTo.utc', '.', 'punctuation.accessor.flow'],
    ['parse_timestamp(period.datetimeTo.utc', 'datetimeTo', 'variable.other.property.flow'],
    ['level     = if value', 'if', 'keyword.control.conditional.flow'],
    ['level     = if value', 'then', 'keyword.control.conditional.flow'],
    ['level     = if value', 'else', 'keyword.control.conditional.flow'],
    ['level     = if value', '"moderate"', 'string.quoted.double.flow'],
    ['value >= 0.0 else drop', '>=', 'keyword.operator.comparison.flow'],
    // dashboards and tests
    ['chart line {', 'chart', 'keyword.other.chart.flow'],
    ['chart line {', 'line', 'support.constant.chart-kind.flow'],
    ['chart line {', 'from', 'support.type.property-name.flow'],
    ['chart line {', '7d', 'constant.numeric.duration.flow'],
    ['table { from: weather,', 'table', 'keyword.other.table.flow'],
    ['given open_meteo [', 'given', 'keyword.other.test.flow'],
    ['expect weather [', 'expect', 'keyword.other.test.flow'],
    ['ts: @2026-07-01T12:00:00Z', '@2026-07-01T12:00:00Z', 'constant.numeric.timestamp.flow'],
    ['ts: @2026-07-01T12:00:00Z', '@', 'punctuation.definition.timestamp.flow'],
    ['wind_speed_10m: null', 'null', 'constant.language.null.flow'],
    ['units: "µg/m³"', '"µg/m³"', 'string.quoted.double.flow'],
  ]);
  // Nothing in the example is marked invalid.
  const invalid = lines.flatMap((l) => l.tokens.filter((t) => t.scopes.some((s) => s.startsWith('invalid'))));
  assert.deepEqual(invalid, []);
});

test('strings, escapes and long strings', async () => {
  const lines = await tokenize(
    [
      'const A = "tab\\there \\u{1F600} \\"q\\" \\\\d+"',
      'const B = "bad \\q escape"',
      'const QUERY = """',
      '  query($after: String) { issues(first: 100) { nodes { title } } }',
      '  a lone " quote and an escape \\n',
      '  """',
      'const C = "after"  // comment',
      'const D = "unterminated',
      'const E = 1',
    ].join('\n'),
  );
  expectScopes(lines, [
    ['const A', '\\t', 'constant.character.escape.flow'],
    ['const A', '\\u{1F600}', 'constant.character.escape.flow'],
    ['const A', '\\"', 'constant.character.escape.flow'],
    ['const A', '\\\\', 'constant.character.escape.flow'],
    ['const A', 'here', 'string.quoted.double.flow'],
    ['const B', '\\q', 'invalid.illegal.unknown-escape.flow'],
    ['const QUERY', '"""', 'string.quoted.triple.flow'],
    ['query($after', 'query($after: String)', 'string.quoted.triple.flow'],
    ['query($after', 'query', '!entity.name.function'],
    ['a lone " quote', '"', 'string.quoted.triple.flow'],
    ['a lone " quote', '\\n', 'constant.character.escape.flow'],
    ['  """', '"""', 'punctuation.definition.string.end.flow'],
    ['const C', 'const', 'storage.type.const.flow'],
    ['const C', '"after"', 'string.quoted.double.flow'],
    ['const C', '// comment', 'comment.line.double-slash.flow'],
    // An unterminated string stops at the end of its line.
    ['const E', 'const', 'storage.type.const.flow'],
    ['const E', '1', 'constant.numeric.integer.flow'],
  ]);
});

test('literals, types and operators', async () => {
  const lines = await tokenize(
    [
      'import "common.flow"',
      'const LAUNCH = @2026-03-01',
      'const T2 = @2026-01-01T14:00:00.250+02:00',
      'const T3 = @2026-01-01T12:00',
      'const HOT: float = 25.0',
      'const BIG = [1e3, 2.5e-3, 500ms, 7w]',
      'fn pick(xs: list<{ name: str }>?, n: int) -> str? = xs[n].name ?? ""',
      'type Address {',
      '  zip: str?',
      '  tags: list<str>',
      '  type: str',
      '  shipping: Address?',
      '}',
      'pipeline orders from shop -> Order {',
      '  derive {',
      '    date = to_date(ts)',
      '    kind = match source_name { "web" => "online", _ => "other" }',
      '    ok   = a != b and c <= d or not (e == f) and g < h',
      '    in_eu = country in ["DE", "FR"] and code matches "^[A-Z]{2}$"',
      '    flag = true',
      '  }',
      '  where not test',
      '  rename { opened_at -> waiting_since }',
      '  dedupe by (device_id, ts) within 1h',
      '  validate { required reading_id else fail, unique reading_id }',
      '  drop humidity, status',
      '  sink warehouse, archive',
      '}',
    ].join('\n'),
  );
  expectScopes(lines, [
    ['import "common.flow"', 'import', 'keyword.control.import.flow'],
    ['import "common.flow"', '"common.flow"', 'string.quoted.double.flow'],
    ['const LAUNCH', '@2026-03-01', 'constant.numeric.date.flow'],
    ['const T2', '@2026-01-01T14:00:00.250+02:00', 'constant.numeric.timestamp.flow'],
    ['const T3', '@2026-01-01T12:00', 'constant.numeric.timestamp.flow'],
    ['const HOT', 'float', 'support.type.primitive.flow'],
    ['const BIG', '1e3', 'constant.numeric.float.flow'],
    ['const BIG', '2.5e-3', 'constant.numeric.float.flow'],
    ['const BIG', '500ms', 'constant.numeric.duration.flow'],
    ['const BIG', 'ms', 'keyword.other.unit.flow'],
    ['const BIG', '7w', 'constant.numeric.duration.flow'],
    ['fn pick', 'xs', 'variable.parameter.flow'],
    ['fn pick', 'list', 'support.type.primitive.flow'],
    ['fn pick', '<', 'punctuation.definition.typeparameters.begin.flow'],
    ['fn pick', 'name', 'support.type.property-name.flow'],
    ['fn pick', 'str', 'support.type.primitive.flow'],
    ['fn pick', '>', 'punctuation.definition.typeparameters.end.flow'],
    ['fn pick', '?', 'keyword.operator.optional.flow'],
    ['fn pick', 'int', 'support.type.primitive.flow'],
    ['fn pick', 'str', 'support.type.primitive.flow', 1],
    ['fn pick', '?', 'keyword.operator.optional.flow', 1],
    ['fn pick', 'name', 'variable.other.property.flow', 1],
    ['fn pick', '??', 'keyword.operator.coalescing.flow'],
    ['type Address {', 'type', 'storage.type.type.flow'],
    ['type Address {', 'Address', 'entity.name.type.flow'],
    ['  tags: list<str>', 'list', 'support.type.primitive.flow'],
    ['  tags: list<str>', 'str', 'support.type.primitive.flow'],
    ['  type: str', 'type', 'support.type.property-name.flow'],
    ['  type: str', 'type', '!storage'],
    ['  shipping: Address?', 'Address', 'entity.name.type.flow'],
    ['pipeline orders', '->', 'keyword.operator.arrow.flow'],
    ['pipeline orders', 'Order', 'entity.name.type.flow'],
    ['  derive {', 'derive', 'keyword.other.step.flow'],
    ['date = to_date(ts)', 'date', '!support.type'],
    ['date = to_date(ts)', 'to_date', 'entity.name.function.call.flow'],
    ['kind = match', 'match', 'keyword.control.match.flow'],
    ['kind = match', 'source_name', 'variable.other.flow'],
    ['kind = match', '=>', 'keyword.operator.arrow.match.flow'],
    ['kind = match', '_', 'variable.language.wildcard.flow', 1],
    ['ok   = a != b', '!=', 'keyword.operator.comparison.flow'],
    ['ok   = a != b', '<=', 'keyword.operator.comparison.flow'],
    ['ok   = a != b', '==', 'keyword.operator.comparison.flow'],
    ['ok   = a != b', '<', 'keyword.operator.comparison.flow', 1],
    ['ok   = a != b', 'or', 'keyword.operator.expression.logical.flow'],
    ['ok   = a != b', 'not', 'keyword.operator.expression.logical.flow'],
    ['in_eu = country', 'in_eu', 'variable.other.flow'],
    ['in_eu = country', 'in', 'keyword.operator.expression.flow', 1],
    ['in_eu = country', 'matches', 'keyword.operator.expression.flow'],
    ['in_eu = country', '"^[A-Z]{2}$"', 'string.quoted.double.flow'],
    ['flag = true', 'true', 'constant.language.boolean.flow'],
    ['where not test', 'where', 'keyword.other.step.flow'],
    ['where not test', 'test', 'variable.other.flow'],
    ['rename {', 'rename', 'keyword.other.step.flow'],
    ['rename {', '->', 'keyword.operator.arrow.flow'],
    ['dedupe by', 'dedupe', 'keyword.other.step.flow'],
    ['dedupe by', 'by', 'keyword.other.step-modifier.flow'],
    ['dedupe by', 'within', 'keyword.other.step-modifier.flow'],
    ['dedupe by', '1h', 'constant.numeric.duration.flow'],
    ['validate { required', 'validate', 'keyword.other.step.flow'],
    ['validate { required', 'required', 'keyword.other.rule.flow'],
    ['validate { required', 'fail', 'keyword.other.action.flow'],
    ['validate { required', 'unique', 'keyword.other.rule.flow'],
    ['drop humidity', 'drop', 'keyword.other.step.flow'],
    ['sink warehouse', 'sink', 'keyword.other.step.flow'],
  ]);
});

test('every example program tokenizes without invalid tokens', async () => {
  const dir = path.join(REPO, 'examples');
  for (const name of fs.readdirSync(dir).filter((n) => n.endsWith('.flow'))) {
    const lines = await tokenize(fs.readFileSync(path.join(dir, name), 'utf8'));
    const invalid = lines.flatMap((l, i) =>
      l.tokens.filter((t) => t.scopes.some((s) => s.startsWith('invalid'))).map((t) => `${name}:${i + 1}: ${t.text}`),
    );
    assert.deepEqual(invalid, [], name);
  }
});
