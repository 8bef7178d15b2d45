//! Scenario tests: the WAL on a real directory, crashed and damaged at every step that matters.

use super::*;
use std::time::Duration;

type Rec = (u64, u8, Vec<u8>);

fn wal_dir(t: &tempfile::TempDir) -> PathBuf {
    t.path().join("wal")
}

fn open_with(dir: &Path, from: u64, opts: WalOptions) -> (Wal, ReplayReport, Vec<Rec>) {
    let mut got = Vec::new();
    let (wal, report) = Wal::open(dir, from, opts, |no, kind, p| {
        got.push((no, kind, p.to_vec()));
        Ok::<(), std::io::Error>(())
    })
    .unwrap();
    (wal, report, got)
}

fn open(dir: &Path, from: u64) -> (Wal, ReplayReport, Vec<Rec>) {
    open_with(dir, from, WalOptions::default())
}

fn payloads(got: &[Rec]) -> Vec<Vec<u8>> {
    got.iter().map(|r| r.2.clone()).collect()
}

fn wal_files(dir: &Path) -> Vec<u64> {
    let mut v: Vec<u64> = fs::read_dir(dir)
        .unwrap()
        .filter_map(|e| parse_file_name(e.unwrap().file_name().to_str().unwrap()))
        .collect();
    v.sort_unstable();
    v
}

fn quarantine_files(t: &tempfile::TempDir) -> Vec<String> {
    let q = t.path().join(fsutil::QUARANTINE_DIR);
    if !q.exists() {
        return Vec::new();
    }
    let mut v: Vec<String> = fs::read_dir(q)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    v.sort();
    v
}

fn file_len(dir: &Path, no: u64) -> u64 {
    fs::metadata(dir.join(file_name(no))).unwrap().len()
}

fn frame(len: usize) -> u64 {
    (format::RECORD_HEADER_LEN + len) as u64
}

#[test]
fn append_and_replay_round_trip() {
    let t = tempfile::tempdir().unwrap();
    let dir = wal_dir(&t);
    let (mut wal, report, got) = open(&dir, 0);
    assert_eq!(report, ReplayReport::default());
    assert!(got.is_empty());
    assert_eq!(wal.current_file(), 1);
    wal.append(KIND_WRITE_BATCH, &[b"one", b"two"]).unwrap();
    wal.append(7, &[b""]).unwrap();
    wal.append(KIND_WRITE_BATCH, &[]).unwrap();
    drop(wal);

    let (wal, report, got) = open(&dir, 0);
    assert_eq!(
        got,
        vec![
            (1, KIND_WRITE_BATCH, b"one".to_vec()),
            (1, KIND_WRITE_BATCH, b"two".to_vec()),
            (1, 7, Vec::new()),
        ]
    );
    assert_eq!(report.records, 3);
    assert_eq!(report.files, 1);
    assert!(report.truncated.is_empty());
    assert_eq!(
        wal.current_file(),
        2,
        "replayed files are never appended to"
    );
    assert_eq!(wal_files(&dir), vec![1, 2]);
}

#[test]
fn group_commit_writes_the_group_back_to_back() {
    let t = tempfile::tempdir().unwrap();
    let dir = wal_dir(&t);
    let (mut wal, _, _) = open(&dir, 0);
    let group: Vec<Vec<u8>> = (0..5u8).map(|i| vec![i; 10 + i as usize]).collect();
    let refs: Vec<&[u8]> = group.iter().map(|g| g.as_slice()).collect();
    wal.append(KIND_WRITE_BATCH, &refs).unwrap();
    let expect: u64 = HEADER_LEN as u64 + group.iter().map(|g| frame(g.len())).sum::<u64>();
    assert_eq!(file_len(&dir, 1), expect);
    assert_eq!(wal.size_bytes(), expect);
    assert!(!wal.is_dirty(), "EveryBatch fsyncs before append returns");
    drop(wal);
    let (_, _, got) = open(&dir, 0);
    assert_eq!(payloads(&got), group);
}

#[test]
fn interval_policy_defers_fsync_until_due() {
    let t = tempfile::tempdir().unwrap();
    let dir = wal_dir(&t);
    let hour = WalOptions {
        sync: SyncPolicy::Interval(Duration::from_secs(3600)),
        ..WalOptions::default()
    };
    let (mut wal, _, _) = open_with(&dir, 0, hour);
    wal.append(KIND_WRITE_BATCH, &[b"a"]).unwrap();
    assert!(wal.is_dirty());
    wal.sync_if_due().unwrap();
    assert!(wal.is_dirty(), "not due for an hour");
    wal.sync().unwrap();
    assert!(!wal.is_dirty());
    drop(wal);

    let always = WalOptions {
        sync: SyncPolicy::Interval(Duration::ZERO),
        ..WalOptions::default()
    };
    let (mut wal, _, got) = open_with(&dir, 0, always);
    assert_eq!(payloads(&got), vec![b"a".to_vec()]);
    wal.append(KIND_WRITE_BATCH, &[b"b"]).unwrap();
    assert!(!wal.is_dirty(), "a zero interval is always due");
}

#[test]
fn rotation_by_size_and_on_request_then_remove_before() {
    let t = tempfile::tempdir().unwrap();
    let dir = wal_dir(&t);
    let opts = WalOptions {
        max_file_bytes: 100,
        ..WalOptions::default()
    };
    let (mut wal, _, _) = open_with(&dir, 0, opts);
    let rec = [0xAAu8; 40];
    for _ in 0..6 {
        wal.append(KIND_WRITE_BATCH, &[&rec]).unwrap();
    }
    // 24 + 2 * 49 = 122 >= 100: each file takes two records, then the next append rotates.
    assert_eq!(wal_files(&dir), vec![1, 2, 3]);
    assert_eq!(wal.current_file(), 3);
    let on_disk: u64 = wal_files(&dir).iter().map(|&n| file_len(&dir, n)).sum();
    assert_eq!(wal.size_bytes(), on_disk);

    let cut = wal.rotate().unwrap();
    assert_eq!(cut, 4);
    assert_eq!(
        wal.rotate().unwrap(),
        4,
        "an empty file is not rotated again"
    );
    wal.append(KIND_WRITE_BATCH, &[b"after the cut"]).unwrap();
    wal.remove_before(cut).unwrap();
    assert_eq!(wal_files(&dir), vec![4]);
    assert_eq!(wal.size_bytes(), file_len(&dir, 4));
    wal.remove_before(u64::MAX).unwrap();
    assert_eq!(
        wal_files(&dir),
        vec![4],
        "the current file is never removed"
    );
    drop(wal);

    let (wal, report, got) = open(&dir, cut);
    assert_eq!(got, vec![(4, KIND_WRITE_BATCH, b"after the cut".to_vec())]);
    assert_eq!(report.files, 1);
    assert_eq!(wal.current_file(), 5);
}

/// A crash in the middle of an append, at every byte of the record being written: the earlier
/// records replay, the file is cut back to them, and the WAL appends and replays normally after.
#[test]
fn torn_tail_at_every_offset_of_the_last_record() {
    let t = tempfile::tempdir().unwrap();
    let dir = wal_dir(&t);
    let (mut wal, _, _) = open(&dir, 0);
    wal.append(KIND_WRITE_BATCH, &[b"first record", b"second"])
        .unwrap();
    wal.append(KIND_WRITE_BATCH, &[b"the last record, torn"])
        .unwrap();
    drop(wal);
    let whole = fs::read(dir.join(file_name(1))).unwrap();
    let last_start = whole.len() as u64 - frame(b"the last record, torn".len());

    for cut in last_start..whole.len() as u64 {
        let t = tempfile::tempdir().unwrap();
        let dir = wal_dir(&t);
        fs::create_dir_all(&dir).unwrap();
        fs::write(dir.join(file_name(1)), &whole[..cut as usize]).unwrap();

        let (mut wal, report, got) = open(&dir, 0);
        assert_eq!(
            payloads(&got),
            vec![b"first record".to_vec(), b"second".to_vec()],
            "cut at {cut}"
        );
        assert_eq!(file_len(&dir, 1), last_start, "cut at {cut}");
        if cut == last_start {
            assert!(report.truncated.is_empty());
        } else {
            assert_eq!(report.truncated.len(), 1, "cut at {cut}");
            let (path, kept, reason) = &report.truncated[0];
            assert_eq!(path, &dir.join(file_name(1)));
            assert_eq!(*kept, last_start);
            assert!(reason.contains("bytes dropped"), "{reason}");
        }
        assert!(
            quarantine_files(&t).is_empty(),
            "a torn tail of the last file is not worth keeping"
        );

        wal.append(KIND_WRITE_BATCH, &[b"after restart"]).unwrap();
        drop(wal);
        let (_, report, got) = open(&dir, 0);
        assert!(report.truncated.is_empty(), "cut at {cut}");
        assert_eq!(
            payloads(&got),
            vec![
                b"first record".to_vec(),
                b"second".to_vec(),
                b"after restart".to_vec()
            ],
            "cut at {cut}"
        );
    }
}

#[test]
fn flipped_byte_in_the_middle_is_caught_by_the_crc() {
    let t = tempfile::tempdir().unwrap();
    let dir = wal_dir(&t);
    let (mut wal, _, _) = open(&dir, 0);
    let recs: Vec<Vec<u8>> = (0..5u8).map(|i| vec![b'a' + i; 30]).collect();
    for r in &recs {
        wal.append(KIND_WRITE_BATCH, &[r]).unwrap();
    }
    drop(wal);
    let path = dir.join(file_name(1));
    let mut bytes = fs::read(&path).unwrap();
    let third = HEADER_LEN as u64 + 2 * frame(30);
    bytes[(third + frame(0) + 15) as usize] ^= 0x10;
    fs::write(&path, &bytes).unwrap();

    let (_, report, got) = open(&dir, 0);
    assert_eq!(payloads(&got), recs[..2].to_vec());
    assert_eq!(report.truncated.len(), 1);
    let (_, kept, reason) = &report.truncated[0];
    assert_eq!(*kept, third);
    assert!(reason.contains("checksum mismatch"), "{reason}");
    assert_eq!(file_len(&dir, 1), third);
    // Damage may hide good records after it: the dropped bytes are kept for a person.
    let q = quarantine_files(&t);
    assert_eq!(q, vec![format!("{}.dropped-at-{third}", file_name(1))]);
    let copy = fs::read(t.path().join("quarantine").join(&q[0])).unwrap();
    assert_eq!(copy, bytes[third as usize..]);
}

#[test]
fn zero_filled_tail_is_cut() {
    let t = tempfile::tempdir().unwrap();
    let dir = wal_dir(&t);
    let (mut wal, _, _) = open(&dir, 0);
    wal.append(KIND_WRITE_BATCH, &[b"kept", b"also kept"])
        .unwrap();
    drop(wal);
    let path = dir.join(file_name(1));
    let good = file_len(&dir, 1);
    let mut f = OpenOptions::new().append(true).open(&path).unwrap();
    f.write_all(&[0u8; 4096]).unwrap();
    drop(f);

    let (_, report, got) = open(&dir, 0);
    assert_eq!(
        payloads(&got),
        vec![b"kept".to_vec(), b"also kept".to_vec()]
    );
    assert_eq!(report.truncated.len(), 1);
    assert!(report.truncated[0].2.contains("zero-filled"));
    assert_eq!(report.truncated[0].1, good);
    assert_eq!(file_len(&dir, 1), good);
    assert!(quarantine_files(&t).is_empty());
}

/// Three files, one record each: 1, 2 and 3 (the writer then sits on an empty file 4).
fn three_files(dir: &Path) {
    let (mut wal, _, _) = open(dir, 0);
    for (i, r) in [b"in one", b"in two", b"in six"].iter().enumerate() {
        assert_eq!(wal.current_file(), i as u64 + 1);
        wal.append(KIND_WRITE_BATCH, &[*r]).unwrap();
        wal.rotate().unwrap();
    }
}

#[test]
fn bad_header_is_quarantined_and_the_rest_replays() {
    let t = tempfile::tempdir().unwrap();
    let dir = wal_dir(&t);
    three_files(&dir);
    let path = dir.join(file_name(2));
    let mut bytes = fs::read(&path).unwrap();
    bytes[3] = b'X';
    fs::write(&path, &bytes).unwrap();

    let (wal, report, got) = open(&dir, 0);
    assert_eq!(payloads(&got), vec![b"in one".to_vec(), b"in six".to_vec()]);
    assert_eq!(report.quarantined.len(), 1);
    let (orig, moved, reason) = &report.quarantined[0];
    assert_eq!(orig, &path);
    assert!(reason.contains("magic"), "{reason}");
    assert_eq!(fs::read(moved).unwrap(), bytes);
    assert_eq!(quarantine_files(&t), vec![file_name(2)]);
    assert!(!path.exists());
    assert_eq!(wal.current_file(), 5);
}

#[test]
fn damage_in_a_file_that_is_not_the_last_does_not_stop_replay() {
    let t = tempfile::tempdir().unwrap();
    let dir = wal_dir(&t);
    let (mut wal, _, _) = open(&dir, 0);
    wal.append(KIND_WRITE_BATCH, &[b"1a", b"1b", b"1c"])
        .unwrap();
    wal.rotate().unwrap();
    wal.append(KIND_WRITE_BATCH, &[b"2a", b"2b"]).unwrap();
    drop(wal);
    let path = dir.join(file_name(1));
    let mut bytes = fs::read(&path).unwrap();
    let second = HEADER_LEN as u64 + frame(2);
    bytes[(second + frame(0)) as usize] ^= 0xFF;
    fs::write(&path, &bytes).unwrap();

    let (_, report, got) = open(&dir, 0);
    assert_eq!(
        got.iter().map(|r| (r.0, r.2.clone())).collect::<Vec<_>>(),
        vec![
            (1, b"1a".to_vec()),
            (2, b"2a".to_vec()),
            (2, b"2b".to_vec())
        ]
    );
    assert_eq!(report.files, 2);
    assert_eq!(report.truncated.len(), 1);
    assert_eq!(report.truncated[0].1, second);
    assert!(report.truncated[0]
        .2
        .contains(&format!("{} bytes dropped", 2 * frame(2))));
    assert_eq!(file_len(&dir, 1), second);
    assert_eq!(quarantine_files(&t).len(), 1);
}

#[test]
fn replay_from_file_skips_and_deletes_older_files() {
    let t = tempfile::tempdir().unwrap();
    let dir = wal_dir(&t);
    three_files(&dir);
    let (wal, report, got) = open(&dir, 3);
    assert_eq!(got, vec![(3, KIND_WRITE_BATCH, b"in six".to_vec())]);
    assert_eq!(report.files, 2, "file 3 and the empty file 4");
    assert_eq!(wal_files(&dir), vec![3, 4, 5]);
    assert_eq!(wal.current_file(), 5);
    drop(wal);

    // Segments cover more than the WAL holds: everything goes and numbering continues from there.
    let (wal, _, got) = open(&dir, 10);
    assert!(got.is_empty());
    assert_eq!(wal_files(&dir), vec![10]);
    assert_eq!(wal.current_file(), 10);
}

#[test]
fn leftover_tmp_file_from_an_interrupted_creation_is_removed() {
    let t = tempfile::tempdir().unwrap();
    let dir = wal_dir(&t);
    three_files(&dir);
    let tmp = tmp_path(&dir.join(file_name(5)));
    fs::write(&tmp, b"TALLY").unwrap();
    let (wal, report, got) = open(&dir, 0);
    assert!(!tmp.exists());
    assert_eq!(got.len(), 3);
    assert!(report.quarantined.is_empty() && report.truncated.is_empty());
    assert_eq!(wal.current_file(), 5);
}

#[test]
fn a_newer_format_version_is_refused_not_quarantined() {
    let t = tempfile::tempdir().unwrap();
    let dir = wal_dir(&t);
    fs::create_dir_all(&dir).unwrap();
    let mut h = encode_header(1);
    h[8..10].copy_from_slice(&(FORMAT_VERSION + 1).to_le_bytes());
    let crc = crc32fast::hash(&h[0..20]);
    h[20..24].copy_from_slice(&crc.to_le_bytes());
    fs::write(dir.join(file_name(1)), h).unwrap();
    let err = Wal::open(&dir, 0, WalOptions::default(), |_, _, _| {
        Ok::<(), std::io::Error>(())
    })
    .unwrap_err();
    assert!(matches!(err, WalError::NewerVersion { version, .. } if version == FORMAT_VERSION + 1));
    assert!(dir.join(file_name(1)).exists());
}

#[test]
fn callback_error_stops_replay_and_names_the_record() {
    let t = tempfile::tempdir().unwrap();
    let dir = wal_dir(&t);
    three_files(&dir);
    let err = Wal::open(&dir, 0, WalOptions::default(), |no, _, _| {
        if no == 2 {
            Err("head refused it")
        } else {
            Ok(())
        }
    })
    .unwrap_err();
    match err {
        WalError::Replay {
            path,
            offset,
            source,
        } => {
            assert_eq!(path, dir.join(file_name(2)));
            assert_eq!(offset, HEADER_LEN as u64);
            assert_eq!(source.to_string(), "head refused it");
        }
        other => panic!("unexpected {other}"),
    }
    assert_eq!(
        wal_files(&dir),
        vec![1, 2, 3, 4],
        "nothing deleted or created"
    );
}

#[test]
fn failed_append_leaves_nothing_and_poisons_when_it_cannot_cut_back() {
    let t = tempfile::tempdir().unwrap();
    let dir = wal_dir(&t);
    let (mut wal, _, _) = open(&dir, 0);
    wal.append(KIND_WRITE_BATCH, &[b"durable"]).unwrap();
    // A read-only handle makes the write fail, and the cut back as well.
    let ro = File::open(dir.join(file_name(1))).unwrap();
    wal.replace_file_for_test(ro);
    let err = wal.append(KIND_WRITE_BATCH, &[b"lost"]).unwrap_err();
    assert!(matches!(err, WalError::Io { op: "write", .. }), "{err}");
    let err = wal.append(KIND_WRITE_BATCH, &[b"refused"]).unwrap_err();
    assert!(matches!(err, WalError::Poisoned(_)), "{err}");
    assert!(wal.rotate().is_err());
    drop(wal);
    let (_, report, got) = open(&dir, 0);
    assert_eq!(payloads(&got), vec![b"durable".to_vec()]);
    assert!(report.truncated.is_empty());
}

#[test]
fn refuses_reserved_kind_and_oversized_records() {
    let t = tempfile::tempdir().unwrap();
    let dir = wal_dir(&t);
    let (mut wal, _, _) = open(&dir, 0);
    assert!(matches!(
        wal.append(0, &[b"x"]),
        Err(WalError::ReservedKind)
    ));
    // calloc'd: the pages are never touched, the length check comes first.
    let big = vec![0u8; MAX_PAYLOAD_BYTES + 1];
    assert!(matches!(
        wal.append(KIND_WRITE_BATCH, &[b"ok", &big]),
        Err(WalError::RecordTooLarge { .. })
    ));
    assert_eq!(
        file_len(&dir, 1),
        HEADER_LEN as u64,
        "nothing of the group written"
    );
    wal.append(KIND_WRITE_BATCH, &[b"fine"]).unwrap();
}
