namespace Bhyve.Aot.Api;

/// <summary>
/// What the API asks of a running machine. The front end implements it over the machine it started; each call
/// returns null on success or one line saying why it cannot be done (the API answers 400 with it).
/// </summary>
public interface IVmControl
{
    bool Paused { get; }
    string? Pause();
    string? Resume();
    /// <summary>Firecracker's SendCtrlAltDel: asks the guest to shut down.</summary>
    string? SendCtrlAltDel();
    /// <summary>The running machine's counters, for the metrics lines.</summary>
    void WriteMetrics(System.Text.Json.Utf8JsonWriter json);
}
