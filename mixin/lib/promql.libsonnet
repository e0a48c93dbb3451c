// PromQL text shared by the rules, the alerts and the dashboards.
{
  // `metric{matchers}` from the configured selector and extra matchers, or just `metric` when
  // there are none: an empty selector (the default) must never leave `{, status="x"}` behind.
  select(metric, selector, extra=[])::
    local matchers = std.filter(function(m) m != '', [selector] + extra);
    if matchers == [] then metric else '%s{%s}' % [metric, std.join(', ', matchers)],
}
