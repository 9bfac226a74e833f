package dev.sonde.snapshotter.schedule;

/** A schedule configuration that cannot be used; the message names the file and the key. */
public final class ScheduleConfigException extends IllegalArgumentException {
    public ScheduleConfigException(String message) {
        super(message);
    }
}
