//! A verifier loaded from a relative path reloads the same file after the
//! process changes directory (daemons chdir to / once started). Alone in
//! its file: the working directory is the whole process's.

#[test]
fn reload_reads_the_same_file_after_a_chdir() {
    let dir = std::env::temp_dir().join(format!("warden-chdir-{}", std::process::id()));
    std::fs::create_dir_all(dir.join("conf")).unwrap();
    std::fs::write(dir.join("conf/c.json"), r#"{"basic": {"users": []}}"#).unwrap();
    std::env::set_current_dir(&dir).unwrap();
    let v = warden::Verifier::from_file("conf/c.json").unwrap();
    std::env::set_current_dir("/").unwrap();
    v.reload().expect("the file it was loaded from");
    // And a change to that file is what the reload reads.
    std::fs::write(dir.join("conf/c.json"), "{").unwrap();
    let e = v.reload().unwrap_err();
    assert!(e.to_string().contains("not valid JSON"), "{e}");
    std::fs::remove_dir_all(&dir).unwrap();
}
