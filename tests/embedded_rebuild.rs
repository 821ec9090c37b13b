//! A large suite rebuilds each case from its file when it runs; the built-in suite has no file on
//! disk, so the rebuild reads the binary's copy. This test binary moves its working directory to an
//! empty folder (one test, so nothing else runs in this process), where reading `cases/...` from
//! disk would fail.

use gws_conform::load::{load_suite_from, Env, Origin, SuiteSources};

#[test]
fn the_embedded_suite_rebuilds_its_cases_without_a_cases_folder() {
    let empty = tempfile::tempdir().unwrap();
    std::env::set_current_dir(empty.path()).unwrap();
    let env = Env::empty()
        .with("GWS_PASSWORD", "x")
        .with("GWS_AGENT_LOGIN_PASSWORD", "y");
    let kept = load_suite_from(&SuiteSources::embedded(), &env).expect("the built-in suite loads");
    assert!(matches!(kept.origin.cases, Origin::Embedded { .. }));
    let mut rebuilt = load_suite_from(&SuiteSources::embedded(), &env).unwrap();
    rebuilt.forget_cases();
    assert!(!rebuilt.keeps_cases());
    for (k, r) in kept.cases.iter().zip(&rebuilt.cases) {
        let k = kept.case(k).unwrap();
        let r = rebuilt.case(r).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(format!("{k:?}"), format!("{r:?}"), "{}", k.id);
    }
    assert!(kept.cases.len() > 40);
}
