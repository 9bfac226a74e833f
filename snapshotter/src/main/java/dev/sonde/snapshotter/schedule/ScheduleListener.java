package dev.sonde.snapshotter.schedule;

/** Told of each scheduled checkpoint once it is done (checkpoint, analysis, retention, alerts). */
public interface ScheduleListener {
    ScheduleListener NONE = o -> {
    };

    void completed(Outcome outcome);
}
