package dev.sonde.rollback.probe;

import dev.sonde.analyzer.linux.AnalysisResult;
import dev.sonde.rollback.ForkSource;
import dev.sonde.snapshotter.libvirt.DomainHandle;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Instant;
import java.util.Map;

/** What a probe may use: the clone, its guest agent, checkpoints and analyses, its overlays, the run-time deadline. */
public interface ProbeContext {
    /** The clone's domain (a fresh handle). */
    DomainHandle domain() throws IOException;

    /** The bundle the clone was forked from. */
    ForkSource source();

    /** The clone's guest agent, once it answers. */
    GuestAgent agent() throws IOException;

    /** Sonde's analysis of the bundle's memory image (computed once). */
    AnalysisResult sourceAnalysis() throws IOException;

    /** A live memory-only checkpoint of the clone now, into the fork's directory; its memory image. */
    Path checkpointClone() throws IOException;

    /** Sonde's analysis of a memory image. */
    AnalysisResult analyze(Path image) throws IOException;

    /** The clone's overlays by disk target. */
    Map<String, Path> overlays();

    /** When the clone's run time ends. */
    Instant deadline();

    /** Progress, to stderr. */
    void log(String message);
}
