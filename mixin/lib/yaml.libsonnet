// A small YAML writer for rule files. std.manifestYamlDoc of jsonnet 0.18 takes minutes on
// the alert annotations; this one quotes strings with the native std.escapeStringJson (a JSON
// string is a YAML string) and writes multi-line strings as `|` blocks, as people write
// PromQL by hand. Keys are written in a fixed order that reads naturally, then sorted.
local first = ['name', 'alert', 'record', 'expr', 'for', 'labels', 'annotations', 'apiVersion', 'kind', 'metadata', 'spec'];
local keys(o) =
  local fields = std.objectFields(o);
  [k for k in first if std.member(fields, k)] + [k for k in fields if !std.member(first, k)];
local pad(n) = std.repeat(' ', n);

local safe = std.stringChars('abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-/');
local plain(s) =
  std.length(s) > 0 && std.length(s) < 64
  && std.length(std.findSubstr(s[0], '0123456789.-')) == 0
  && std.length([c for c in std.stringChars(s) if !std.member(safe, c)]) == 0
  && !std.member(['true', 'false', 'null', 'yes', 'no', 'on', 'off', 'y', 'n'], std.asciiLower(s));

local scalar(v, indent) =
  if std.isString(v) then
    if std.endsWith(v, '\n') && std.length(std.findSubstr('\n', v)) > 0 then
      '|\n' + std.join('\n', [if l == '' then '' else pad(indent) + l for l in std.split(std.substr(v, 0, std.length(v) - 1), '\n')])
    else if plain(v) then v
    else std.escapeStringJson(v)
  else if std.isBoolean(v) then (if v then 'true' else 'false')
  else std.toString(v);

local value(v, indent) =
  if std.isObject(v) then
    if std.length(v) == 0 then ' {}'
    else '\n' + std.join('\n', [
      pad(indent) + k + ':' + (if std.isObject(v[k]) || std.isArray(v[k]) then value(v[k], indent + 2) else ' ' + scalar(v[k], indent + 2))
      for k in keys(v)
    ])
  else if std.isArray(v) then
    if std.length(v) == 0 then ' []'
    else '\n' + std.join('\n', [
      pad(indent) + '-' + (
        if std.isObject(e) then
          // The first key goes on the dash's line.
          std.substr(value(e, indent + 2), 1 + indent + 1, 1e9)
        else ' ' + scalar(e, indent + 2)
      )
      for e in v
    ])
  else ' ' + scalar(v, indent);

{
  // A YAML document for an object.
  manifest(o):: std.substr(value(o, 0), 1, 1e9) + '\n',
}
