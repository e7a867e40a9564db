"""The benchmark store's tables, declared as migrations (see core.db).

bench_runs     one invocation of `bench run` / `bench eval` (or one node's part of a `bench
               fleet`) with its environment, machine, stable uuid and fleet id
bench_results  one measured (or evaluated) configuration of a run, failed ones included
bench_samples  the raw steady-state latency of every iteration of a result
bench_peaks    the machine's measured FP32 GEMM peak and memory bandwidth (roofline ceilings)
"""

from __future__ import annotations

import sqlite_utils

from core.db import Schema

SCHEMA = Schema("bench")


@SCHEMA.migration(1, "bench runs, results, samples, peaks")
def _v1(db: sqlite_utils.Database) -> None:
    db.executescript(
        """
        CREATE TABLE bench_peaks (
            id INTEGER PRIMARY KEY,
            measured_at TEXT NOT NULL,
            gflops REAL NOT NULL,
            gflops_size INTEGER NOT NULL,
            gflops_threads INTEGER NOT NULL,
            bandwidth_gbs REAL NOT NULL,
            bandwidth_kind TEXT NOT NULL,
            bandwidth_threads INTEGER NOT NULL,
            sizes TEXT NOT NULL DEFAULT '[]',
            threads TEXT NOT NULL DEFAULT '[]',
            probes TEXT NOT NULL DEFAULT '[]',
            environment TEXT NOT NULL DEFAULT '{}'
        );

        CREATE TABLE bench_runs (
            id INTEGER PRIMARY KEY,
            kind TEXT NOT NULL DEFAULT 'run',
            profile TEXT NOT NULL,
            started_at TEXT NOT NULL,
            finished_at TEXT,
            status TEXT NOT NULL DEFAULT 'running',
            environment TEXT NOT NULL DEFAULT '{}',
            git_commit TEXT,
            peak_id INTEGER REFERENCES bench_peaks(id),
            config TEXT NOT NULL DEFAULT '{}',
            message TEXT
        );
        CREATE INDEX bench_runs_started ON bench_runs(started_at);

        CREATE TABLE bench_results (
            id INTEGER PRIMARY KEY,
            run_id INTEGER NOT NULL REFERENCES bench_runs(id) ON DELETE CASCADE,
            created_at TEXT NOT NULL,
            model TEXT NOT NULL,
            family TEXT,
            task TEXT,
            backend TEXT NOT NULL,
            device TEXT NOT NULL,
            dtype TEXT NOT NULL DEFAULT 'float32',
            batch_size INTEGER NOT NULL,
            threads_intra INTEGER,
            threads_inter INTEGER,
            params INTEGER,
            flops INTEGER,
            macs INTEGER,
            flop_method TEXT,
            exporter TEXT,
            providers TEXT,
            status TEXT NOT NULL,
            stage TEXT,
            error TEXT,
            latency_count INTEGER,
            latency_mean REAL,
            latency_p50 REAL,
            latency_p90 REAL,
            latency_p95 REAL,
            latency_p99 REAL,
            latency_stdev REAL,
            latency_iqr REAL,
            latency_min REAL,
            latency_max REAL,
            stopped_by TEXT,
            throughput_per_s REAL,
            peak_memory_mb REAL,
            cuda_peak_memory_mb REAL,
            build_s REAL,
            export_s REAL,
            session_s REAL,
            first_call_ms REAL,
            parity_max_abs_diff REAL,
            achieved_gflops REAL,
            fraction_of_peak REAL,
            noisy INTEGER,
            eval_metrics TEXT,
            config TEXT NOT NULL DEFAULT '{}'
        );
        CREATE INDEX bench_results_run ON bench_results(run_id);
        CREATE INDEX bench_results_model ON bench_results(model, backend, device, batch_size);

        CREATE TABLE bench_samples (
            result_id INTEGER NOT NULL REFERENCES bench_results(id) ON DELETE CASCADE,
            iteration INTEGER NOT NULL,
            ms REAL NOT NULL,
            PRIMARY KEY (result_id, iteration)
        ) WITHOUT ROWID;
        """
    )


@SCHEMA.migration(2, "bench_peaks.gflops_engine: which runtime's GEMM kernel set the peak")
def _v2(db: sqlite_utils.Database) -> None:
    db.execute("ALTER TABLE bench_peaks ADD COLUMN gflops_engine TEXT NOT NULL DEFAULT 'torch'")


@SCHEMA.migration(3, "a configuration's own memory, the process peak apart, and the bytes it moves")
def _v3(db: sqlite_utils.Database) -> None:
    # peak_memory_mb was the process's RSS high-water mark, which only rises through a run: it
    # moves to process_peak_memory_mb, and the configuration's own memory of older rows is
    # unknown (NULL) rather than wrong.
    db.executescript(
        """
        ALTER TABLE bench_results ADD COLUMN process_peak_memory_mb REAL;
        ALTER TABLE bench_results ADD COLUMN bytes_moved INTEGER;
        UPDATE bench_results SET process_peak_memory_mb = peak_memory_mb, peak_memory_mb = NULL;
        """
    )


@SCHEMA.migration(4, "where a run was measured: its machine, a stable uuid, its fleet")
def _v4(db: sqlite_utils.Database) -> None:
    # uuid: the run's identity across databases (`bench export` / `bench import`, a fleet's
    # nodes); fleet_id groups the runs of one `bench fleet`; machine is the JSON object that
    # `bench show` prints (hostname, Ray node id, CPU, cores, memory, accelerators, versions).
    # Older runs get a fresh uuid and a machine read from their stored environment.
    db.executescript(
        """
        ALTER TABLE bench_runs ADD COLUMN uuid TEXT;
        ALTER TABLE bench_runs ADD COLUMN fleet_id TEXT;
        ALTER TABLE bench_runs ADD COLUMN machine TEXT NOT NULL DEFAULT '{}';
        UPDATE bench_runs SET uuid = lower(hex(randomblob(16))) WHERE uuid IS NULL;
        UPDATE bench_runs SET machine = json_object(
            'hostname', json_extract(environment, '$.hostname'),
            'node_id', NULL,
            'cpu_model', json_extract(environment, '$.cpu_model'),
            'physical_cores', json_extract(environment, '$.physical_cores'),
            'logical_cores', json_extract(environment, '$.logical_cores'),
            'memory_gb', json_extract(environment, '$.memory_gb'),
            'accelerators', CASE WHEN json_type(environment, '$.gpu') = 'object'
                THEN json_array(json_extract(environment, '$.gpu')) ELSE json_array() END,
            'os', json_extract(environment, '$.os'),
            'python', json_extract(environment, '$.python'),
            'versions', json(COALESCE(json_extract(environment, '$.versions'), '{}'))
        ) WHERE json_valid(environment);
        CREATE UNIQUE INDEX bench_runs_uuid ON bench_runs(uuid);
        CREATE INDEX bench_runs_fleet ON bench_runs(fleet_id);
        """
    )
