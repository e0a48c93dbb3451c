// Small builders for Grafana dashboards (classic JSON, schemaVersion 39), and the one place
// that lays panels out: rows stack top to bottom, panels flow left to right inside their row,
// so no two panels can overlap and every panel sits under its row.
local ds = { type: 'prometheus', uid: '${datasource}' };

{
  datasource: ds,

  // An instant query, as tables and stats use it.
  instant(expr, refId='A', legend=null, table=false)::
    { datasource: ds, refId: refId, expr: expr, editorMode: 'code', range: false, instant: true }
    + (if table then { format: 'table' } else {})
    + (if legend != null then { legendFormat: legend } else {}),

  // A range query for time series.
  range(expr, refId='A', legend=null)::
    { datasource: ds, refId: refId, expr: expr, editorMode: 'code', range: true, instant: false }
    + (if legend != null then { legendFormat: legend } else {}),

  thresholds(steps):: {
    mode: 'absolute',
    steps: [{ color: s[1], value: s[0] } for s in steps],
  },

  // The unit goes in fieldConfig.defaults, where the layout check looks for it.
  panel(type, title, description, targets, unit, size, extra={}):: {
    type: type,
    title: title,
    description: description,
    datasource: ds,
    targets: targets,
    fieldConfig: {
      defaults: { unit: unit, mappings: [], thresholds: $.thresholds([[null, 'text']]) },
      overrides: [],
    },
    size:: size,
  } + extra,

  stat(title, description, targets, unit='none', size=[6, 4], thresholds=[[null, 'green']], mappings=[], textMode='value_and_name', extra={})::
    $.panel('stat', title, description, targets, unit, size, {
      fieldConfig+: { defaults+: { color: { mode: 'thresholds' }, thresholds: $.thresholds(thresholds), mappings: mappings } },
      options: {
        reduceOptions: { calcs: ['lastNotNull'], fields: '', values: false },
        orientation: 'auto',
        textMode: textMode,
        colorMode: 'background',
        graphMode: 'none',
        justifyMode: 'auto',
        wideLayout: true,
        showPercentChange: false,
      },
    } + extra),

  // A table of instant queries merged on their common labels. `columns` lists [field, title]
  // pairs left to right (fields not listed are hidden); `sort` is [field, descending].
  table(title, description, targets, columns, size, overrides=[], sort=null, unit='none', extra={})::
    $.panel('table', title, description, targets, unit, size, {
      transformations: [{ id: 'merge', options: {} }]
                       + (if sort != null then [{ id: 'sortBy', options: { fields: {}, sort: [{ field: sort[0], desc: sort[1] }] } }] else [])
                       + [{
                         id: 'organize',
                         options: {
                           excludeByName: { Time: true },
                           renameByName: { [col[0]]: col[1] for col in columns },
                           indexByName: { [columns[i][0]]: i for i in std.range(0, std.length(columns) - 1) },
                           includeByName: { [col[0]]: true for col in columns },
                         },
                       }],
      fieldConfig+: { overrides: overrides },
      options: { showHeader: true, cellHeight: 'sm', footer: { show: false, reducer: ['sum'], fields: '', countRows: false } },
    } + extra),

  timeseries(title, description, targets, unit, size, extra={})::
    $.panel('timeseries', title, description, targets, unit, size, {
      fieldConfig+: { defaults+: { custom: { drawStyle: 'line', lineWidth: 1, fillOpacity: 10, showPoints: 'never' } } },
      options: { legend: { displayMode: 'table', placement: 'bottom', calcs: ['lastNotNull', 'max'] }, tooltip: { mode: 'multi', sort: 'desc' } },
    } + extra),

  // Overrides of one column.
  column(name, props):: { matcher: { id: 'byName', options: name }, properties: [{ id: k, value: props[k] } for k in std.objectFields(props)] },

  // Value mappings from exact values to text and colour.
  valueMap(entries):: [{
    type: 'value',
    options: { [e[0]]: { text: e[1], color: e[2], index: i } for i in std.range(0, std.length(entries) - 1) for e in [entries[i]] },
  }],

  row(title, panels, collapsed=false):: { title: title, panels: panels, collapsed: collapsed },

  // Lays rows out and numbers every panel. Returns the dashboard's `panels` list.
  layout(rows)::
    local place(panels, y0) =
      std.foldl(
        function(acc, p)
          local w = p.size[0];
          local h = p.size[1];
          local wrap = acc.x + w > 24;
          local x = if wrap then 0 else acc.x;
          local y = if wrap then acc.y + acc.lineH else acc.y;
          local lineH = if wrap then h else std.max(acc.lineH, h);
          acc { x: x + w, y: y, lineH: lineH, out+: [p { gridPos: { h: h, w: w, x: x, y: y } }] },
        panels,
        { x: 0, y: y0, lineH: 0, out: [] },
      );
    local step = std.foldl(
      function(acc, r)
        local body = place(r.panels, acc.y + 1);
        local rowPanel = { type: 'row', title: r.title, collapsed: r.collapsed, gridPos: { h: 1, w: 24, x: 0, y: acc.y }, panels: if r.collapsed then body.out else [] };
        acc {
          y: if r.collapsed then acc.y + 1 else body.y + body.lineH,
          out+: [rowPanel] + (if r.collapsed then [] else body.out),
        },
      rows,
      { y: 0, out: [] },
    );
    // Ids in reading order, collapsed rows' panels included.
    std.foldl(
      function(acc, p)
        local kids = if 'panels' in p then p.panels else [];
        local n = std.length(acc) + std.length(std.flattenArrays([if 'panels' in q then q.panels else [] for q in acc]));
        acc + [p { id: n + 1 } + (if 'panels' in p then { panels: [kids[i] { id: n + 2 + i } for i in std.range(0, std.length(kids) - 1)] } else {})],
      step.out,
      [],
    ),

  // Template variables.
  datasourceVariable:: {
    name: 'datasource', label: 'Data source', type: 'datasource', query: 'prometheus',
    current: {}, hide: 0, refresh: 1, regex: '', options: [],
  },
  queryVariable(name, label, query, multi=false, includeAll=false, hide=0):: {
    name: name, label: label, type: 'query', datasource: ds,
    query: { query: query, refId: 'PrometheusVariableQueryEditor-VariableQuery', qryType: 1 },
    definition: query, refresh: 2, sort: 1, hide: hide, multi: multi, includeAll: includeAll,
    current: {}, options: [], regex: '',
  } + (
    // Starts on All, so a dashboard shows every exporter whatever its job is called.
    if !includeAll then {}
    else if multi then { allValue: '.*', current: { selected: true, text: ['All'], value: ['$__all'] } }
    else { allValue: '.*', current: { selected: true, text: 'All', value: '$__all' } }
  ),
  customVariable(name, label, options, default):: {
    name: name, label: label, type: 'custom', hide: 0, multi: false, includeAll: false,
    query: std.join(',', ['%s : %s' % [o[0], o[1]] for o in options]),
    current: { text: default[0], value: default[1] },
    options: [{ text: o[0], value: o[1], selected: o == default } for o in options],
  },

  dashboard(uid, title, description, tags, variables, rows, links=[]):: {
    uid: uid,
    title: title,
    description: description,
    tags: tags,
    editable: true,
    graphTooltip: 1,
    schemaVersion: 39,
    version: 1,
    refresh: '1m',
    time: { from: 'now-24h', to: 'now' },
    timezone: 'browser',
    annotations: { list: [] },
    links: [{
      title: 'Intune dashboards', type: 'dashboards', tags: tags, asDropdown: true,
      includeVars: true, keepTime: true, icon: 'external link', targetBlank: false, tooltip: '', url: '',
    }] + links,
    templating: { list: variables },
    panels: $.layout(rows),
  },
}
