using System.Text.Json.Serialization;

namespace Bhyve.Aot.StorageBench;

/// <summary>How every target opens the backing file: O_DIRECT (bhyve-aot `direct`, QEMU cache=none, fio direct=1) or
/// through the page cache (QEMU cache=writeback, fio direct=0).</summary>
[JsonConverter(typeof(JsonStringEnumConverter<CacheMode>))]
public enum CacheMode
{
    [JsonStringEnumMemberName("direct")] Direct,
    [JsonStringEnumMemberName("buffered")] Buffered,
}
