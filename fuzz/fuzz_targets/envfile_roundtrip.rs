//! The .env parser never panics, renders every document it accepts back byte for byte,
//! and an edited document still parses with the new value.
#![no_main]

use libfuzzer_sys::fuzz_target;
use lsauth::config::envfile::EnvDocument;

fuzz_target!(|data: &[u8]| {
    if let Ok(doc) = EnvDocument::parse(data) {
        assert_eq!(doc.render().as_bytes(), data);
        if let Some(key) = doc.keys().into_iter().find(|k| doc.get(k).is_some()) {
            let mut edited = doc.clone();
            edited.set_value(&key, "eyJ new value #");
            let reparsed = EnvDocument::parse(edited.render().as_bytes()).expect("an edited document parses");
            assert_eq!(reparsed.get(&key), Some("eyJ new value #"));
        }
    }
});
