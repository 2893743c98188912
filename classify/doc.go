// Package classify says what a citizen's message is about: whether it is an
// appeal at all (a complaint or question to the authorities, not a greeting,
// an advertisement, thanks or news), which topics of the rubricator it
// concerns, whether it is urgent, and which places it names.
//
//	engine, err := classify.New() // the shipped rubricator: no training needed
//	if err != nil {
//		return err
//	}
//	r := engine.Classify("Третью неделю не вывозят мусор во дворе на Ленина")
//	fmt.Println(r.IsAppeal, r.Topics[0].Code) // true garbage
//	r.Apply(&a)                               // topics, noise, urgency, municipality and place onto an appeal
//	model, err := classify.Train(examples, classify.TrainConfig{}) // or learn the topics from labelled history
//	engine, err = classify.New(classify.WithModel(model))
//	report := classify.Evaluate(engine, test) // accuracy, macro-F1, confusion matrix
//
// # Pieces
//
//   - Normalize and Tokenize clean social-network text: HTML tags and
//     entities, URLs, mentions and emoji go; letters are lower-cased, ё
//     becomes е and Latin look-alikes inside Cyrillic words are folded.
//   - StemCache stems Russian words with the Snowball algorithm
//     (github.com/kljensen/snowball/russian) behind a bounded, concurrent
//     cache: the raw stemmer costs microseconds a word.
//   - Rubricator is the keyword classifier. The shipped one
//     (DefaultRubricator, file rubricator.yaml embedded in the package) has
//     the stable topic codes appealkit shares (roads, housing.heating,
//     garbage, animals ...) with Russian titles and weighted stems and
//     phrases, and the signals for appeal-vs-noise and urgency. It works
//     with no training; edit a copy (DefaultRubricatorYAML) and load it
//     with ParseRubricator.
//   - Model is a trained classifier (Train, Save, Load): a one-vs-rest
//     linear SVM over TF-IDF stem unigrams, half-weight bigrams and stem
//     prefixes, with class-balanced costs for rare topics and a softmax
//     temperature fitted on held-out data, so scores are probabilities.
//     Labels are free strings.
//   - Gazetteer resolves the settlements, streets and municipalities a text
//     names, inflected forms included ("в Захарове", "Скопинского района").
//   - Engine (New) puts them together: it normalises and stems a text once
//     and returns a Result with topics, IsAppeal, Urgent and Places;
//     Result.Apply fills an appeal.Appeal. ClassifyAppeal does both and
//     also leaves the text's stems on the appeal (appeal.Appeal.Analysis),
//     so that a learned router (route/learn) does not stem it again.
//     Explain says which stems, bigrams or keywords pushed each decision.
//   - Evaluate measures any Classifier on labelled examples: accuracy,
//     macro- and weighted F1, per-class precision and recall, confusion
//     matrix. ReadExamples and SplitExamples load and split JSON Lines.
//
// Long texts: classification reads the first MaxAnalysedBytes (128 KiB,
// about 16,000 words; every message a network can deliver fits whole) and
// costs time linear in the length with buffers reused between calls, so
// its memory does not grow with the input.
//
// Everything here is safe for concurrent use once built; nothing is global
// and mutable (the default rubricator is parsed once and never changes).
package classify
