package dev.sonde.snapshotter.bundle;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;

/**
 * The manifest of an evidence bundle ({@code manifest.json}): what was captured, from where, when, how long the guest
 * was paused, and the size and SHA-256 of every other file of the bundle. It is written last, after every file it
 * lists is on stable storage; a bundle without it, or in a directory still named {@code .partial-*}, is incomplete.
 *
 * <p>Times are ISO-8601 UTC strings; the pause is measured (see {@link Pause#method()}), never estimated.
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
public record Manifest(
        String format,
        int version,
        String bundle,
        String checkpointId,
        String sondeVersion,
        Host host,
        Domain domain,
        Checkpoint checkpoint,
        List<Disk> disks,
        List<FileEntry> files) {

    public static final String FORMAT = "sonde-evidence-bundle";
    public static final int VERSION = 1;
    public static final String FILE_NAME = "manifest.json";

    /** Where the checkpoint was taken. */
    @JsonInclude(JsonInclude.Include.NON_NULL)
    public record Host(String hostname, String os, String libvirtUri, String libvirtHostname, String libvirtVersion,
            String hypervisorType, String hypervisorVersion) {
    }

    /** The checkpointed domain. */
    @JsonInclude(JsonInclude.Include.NON_NULL)
    public record Domain(String name, String uuid, String stateBefore, String stateAfter, Long memoryKiB, Integer vcpus) {
    }

    /** How and when. {@code stepMillis}: wall-clock time of each step, in the order they ran. */
    @JsonInclude(JsonInclude.Include.NON_NULL)
    public record Checkpoint(String startTime, String endTime, String memoryMethod, String memoryFile,
            String memoryFormat, String diskMethod, String quiesce, Pause pause, Map<String, Double> stepMillis,
            List<String> notes) {
    }

    /**
     * The guest's measured pause: the sum of the {@code intervals} during which its vCPUs were stopped.
     * {@code method} says how it was measured (QEMU's own STOP/RESUME event timestamps when available).
     * {@code snapshotCallMillis} is the wall-clock duration of the libvirt call that paused it, for comparison.
     */
    @JsonInclude(JsonInclude.Include.NON_NULL)
    public record Pause(Double millis, String method, List<PauseInterval> intervals, Double snapshotCallMillis) {
    }

    public record PauseInterval(String stoppedAt, String resumedAt, long micros) {
    }

    /**
     * One disk: its layers as copied into the bundle (layer 0 is the image the guest was writing to at the checkpoint
     * instant, then its backing files in order) and the backing chain the domain had before and after the checkpoint.
     */
    @JsonInclude(JsonInclude.Include.NON_NULL)
    public record Disk(String target, String method, List<Layer> layers, List<String> chainBefore, List<String> chainAfter) {
    }

    /** A disk layer: its bundle file, the host path it was copied from, its format, and which bundle file backs it. */
    @JsonInclude(JsonInclude.Include.NON_NULL)
    public record Layer(String file, String source, String format, String backingFile) {
    }

    public Manifest withSeal(String bundleName, List<FileEntry> fileEntries) {
        return new Manifest(format, version, bundleName, checkpointId, sondeVersion, host, domain, checkpoint, disks,
                List.copyOf(fileEntries));
    }

    public static ObjectMapper mapper() {
        return new ObjectMapper()
                .enable(SerializationFeature.INDENT_OUTPUT)
                .disable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES);
    }

    public byte[] toJson() {
        try {
            byte[] json = mapper().writeValueAsBytes(this);
            byte[] out = new byte[json.length + 1];
            System.arraycopy(json, 0, out, 0, json.length);
            out[json.length] = '\n';
            return out;
        } catch (IOException e) {
            throw new IllegalStateException("cannot serialise the manifest", e);
        }
    }

    public static Manifest parse(byte[] json) throws IOException {
        return mapper().readValue(json, Manifest.class);
    }

    @Override
    public String toString() {
        return new String(toJson(), StandardCharsets.UTF_8);
    }
}
