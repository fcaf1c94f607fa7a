using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using System.Globalization;
using System.Text;

namespace ServeGate.Gateway.Metrics;

/// <summary>
/// A small Prometheus text-format exporter for ServeGate's meters (OpenTelemetry's exporter packages are not among those
/// that restore here): a <see cref="MeterListener"/> sums counters and buckets histograms per tag set; observable
/// instruments are read at scrape time. Served at <c>GET /metrics</c>.
/// </summary>
internal sealed class PrometheusExporter : IDisposable
{
    private static readonly double[] Buckets = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];

    private readonly MeterListener _listener = new();
    private readonly ConcurrentDictionary<Instrument, ConcurrentDictionary<string, Series>> _series = new();
    private readonly Lock _scrape = new();

    /// <param name="meters">Only meters of this factory (this application) are exported, not others in the process.</param>
    public PrometheusExporter(IMeterFactory meters)
    {
        _listener.InstrumentPublished = (instrument, listener) =>
        {
            if (ReferenceEquals(instrument.Meter.Scope, meters) && instrument.Meter.Name.StartsWith("ServeGate", StringComparison.Ordinal))
            {
                listener.EnableMeasurementEvents(instrument);
            }
        };
        _listener.SetMeasurementEventCallback<long>((i, v, tags, _) => Record(i, v, tags));
        _listener.SetMeasurementEventCallback<int>((i, v, tags, _) => Record(i, v, tags));
        _listener.SetMeasurementEventCallback<double>((i, v, tags, _) => Record(i, v, tags));
        _listener.Start();
    }

    private sealed class Series(string labels)
    {
        public string Labels { get; } = labels;

        public double Value;
        public long Count;
        public long[] BucketCounts = new long[Buckets.Length];
    }

    private void Record(Instrument instrument, double value, ReadOnlySpan<KeyValuePair<string, object?>> tags)
    {
        var labels = Labels(tags);
        var series = _series.GetOrAdd(instrument, _ => new()).GetOrAdd(labels, l => new Series(l));
        lock (series)
        {
            switch (instrument)
            {
                case Histogram<double>:
                    series.Value += value;
                    series.Count++;
                    for (var b = 0; b < Buckets.Length; b++)
                    {
                        if (value <= Buckets[b])
                        {
                            series.BucketCounts[b]++;
                        }
                    }

                    break;
                case ObservableGauge<int> or ObservableGauge<long> or ObservableGauge<double> or ObservableCounter<long> or ObservableCounter<double>:
                    series.Value = value; // observed totals and levels replace
                    break;
                default:
                    series.Value += value;
                    break;
            }
        }
    }

    /// <summary>Every series in Prometheus text exposition format 0.0.4.</summary>
    public string Scrape()
    {
        lock (_scrape)
        {
            _listener.RecordObservableInstruments();
            var text = new StringBuilder();
            foreach (var (instrument, all) in _series.OrderBy(s => s.Key.Name, StringComparer.Ordinal))
            {
                var type = instrument switch
                {
                    Histogram<double> => "histogram",
                    ObservableGauge<int> or ObservableGauge<long> or ObservableGauge<double> => "gauge",
                    _ => "counter",
                };
                var name = Name(instrument) + (type == "counter" ? "_total" : string.Empty);
                text.Append("# HELP ").Append(name).Append(' ').Append(instrument.Description).Append('\n');
                text.Append("# TYPE ").Append(name).Append(' ').Append(type).Append('\n');
                foreach (var series in all.Values.OrderBy(s => s.Labels, StringComparer.Ordinal))
                {
                    lock (series)
                    {
                        if (type == "histogram")
                        {
                            for (var b = 0; b < Buckets.Length; b++)
                            {
                                Line(text, name + "_bucket", With(series.Labels, "le", Number(Buckets[b])), series.BucketCounts[b]);
                            }

                            Line(text, name + "_bucket", With(series.Labels, "le", "+Inf"), series.Count);
                            Line(text, name + "_sum", series.Labels, series.Value);
                            Line(text, name + "_count", series.Labels, series.Count);
                        }
                        else
                        {
                            Line(text, name, series.Labels, series.Value);
                        }
                    }
                }
            }

            return text.ToString();
        }
    }

    private static string Name(Instrument instrument)
    {
        var name = instrument.Name.Replace('.', '_');
        var unit = instrument.Unit switch
        {
            "s" => "_seconds",
            "USD" => "_usd",
            _ => string.Empty,
        };
        return name + unit;
    }

    private static void Line(StringBuilder text, string name, string labels, double value) =>
        text.Append(name).Append(labels.Length > 0 ? "{" + labels + "}" : string.Empty).Append(' ').Append(Number(value)).Append('\n');

    private static string With(string labels, string key, string value) =>
        (labels.Length > 0 ? labels + "," : string.Empty) + key + "=\"" + value + "\"";

    private static string Number(double value) => value.ToString("R", CultureInfo.InvariantCulture);

    private static string Labels(ReadOnlySpan<KeyValuePair<string, object?>> tags)
    {
        var pairs = new List<string>(tags.Length);
        foreach (var tag in tags)
        {
            var value = Convert.ToString(tag.Value, CultureInfo.InvariantCulture) ?? string.Empty;
            pairs.Add(tag.Key + "=\"" + value.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("\"", "\\\"", StringComparison.Ordinal).Replace("\n", "\\n", StringComparison.Ordinal) + "\"");
        }

        pairs.Sort(StringComparer.Ordinal);
        return string.Join(',', pairs);
    }

    public void Dispose() => _listener.Dispose();
}
