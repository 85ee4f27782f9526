"""The page in German (see :mod:`metademo.ui.i18n`): the keys and ``{placeholders}`` of the English tables."""

STRINGS = {
    # --- static texts ---------------------------------------------------------------------------------
    "header": """\
# metademo: Lernen lernen, live
Meta-Lernen trainiert ein Modell auf *vielen kleinen Aufgaben*, damit es eine **neue** Aufgabe aus einer Handvoll
Beispielen lernen kann. Hier treffen {count} Meta-Lerner, vortrainiert auf den Alphabeten von Omniglot, auf
Zeichen, die sie nie gesehen haben. Geben Sie ihnen ein paar Beispiele jeder Klasse und sehen Sie zu, wie sie sich
anpassen.
""",
    "classifier_intro": """\
**So geht's:** 1) Geben Sie jeder Klasse ein paar Beispiele: Bilder *hochladen*, auf der Fläche zeichnen und
**Zeichnung** drücken, eine Zeichnung in die Webcam halten und **Foto** drücken oder **Galerie** für ein Zeichen,
das die Modelle nie sahen; 2) **Anpassen** drücken und zusehen, wie das Modell Schritt für Schritt daraus lernt
(aus der *Support-Menge*); 3) *Anfragen* hinzufügen oder einfach zeichnen und ablesen, wie sicher es ist.
""",
    "sketch_help": ("Zeichnen Sie ein Zeichen mit der Maus, dem Finger oder einem Stift und drücken Sie dann "
                    "**Zeichnung** in einer Klasse (oder unter *Anfragen*): Es wird hinzugefügt, und die Fläche leert "
                    "sich für das nächste."),
    "webcam_help": ("Drücken Sie auf das Kamerabild und erlauben Sie dem Browser, die Kamera zu nutzen. Halten Sie "
                    "ein Zeichen hoch, das mit dunklem Stift auf weißes Papier gezeichnet ist und die Bildmitte "
                    "ausfüllt, und drücken Sie **Foto** in einer Klasse."),
    "live_help": ("Nach **Anpassen** zeigen die Balken, was das angepasste Modell von der Zeichnung auf der Fläche "
                  "hält, und sie ändern sich beim Zeichnen: ein Balken pro Klasse."),
    "capture_help": ("Jede Klassenkarte: **Hochladen** (mehrere Dateien), **Zeichnung** (von der Fläche), **Foto** "
                     "(von der Webcam), **Galerie** (K Zeichnungen eines neuen Zeichens). Ein Klick wählt ein "
                     "Beispiel für *Auswahl entfernen*; *Leeren* leert die Karte."),
    "query_help": ("Anfragen werden klassifiziert, sobald sie hinzugefügt sind. *Galerie* fügt eine neue Zeichnung "
                   "jedes Galerie-Zeichens Ihrer Klassen hinzu, daher ist die richtige Antwort bekannt (grün = "
                   "richtig, rot = falsch)."),
    "task_help": ("**Aufgabe herunterladen** speichert die Klassennamen und ihre Bilder (und die Anfragen) in einer "
                  "Zip-Datei; **Aufgabe öffnen** lädt eine solche Datei wieder, z. B. eine von einer Lehrkraft "
                  "vorbereitete Aufgabe."),
    "outer_loop_help": ("Die vortrainierten Modelle haben in einer äußeren Schleife über Tausende kleiner Aufgaben "
                        "gelernt, *wie man lernt*. Hier können Sie dabei zusehen: Ein kleines Modell startet mit "
                        "zufälligen Gewichten und wird auf Aufgaben aus den Trainingsalphabeten von Omniglot "
                        "meta-trainiert; alle paar Iterationen wird es auf Aufgaben mit Zeichen bewertet, auf denen es "
                        "nie trainiert. Ein Lauf zur selben Zeit für die ganze App. Warum die erste Wahl schon vor "
                        "ihrer ersten Iteration etwa 65 % erreicht (Zufall sind 20 %): Selbst zufällige "
                        "Faltungsgewichte bilden zwei Zeichnungen desselben Zeichens auf nahe Punkte ab, und sie "
                        "antwortet mit dem nächsten Klassenmittel, schlägt also untrainiert den Zufall; die äußere "
                        "Schleife rückt diese Punkte dann viel weiter auseinander. Die andere Wahl beginnt jede "
                        "Aufgabe mit einem Kopf aus Nullen, also beim Zufall."),
    "export_help": ("**Klassifikator herunterladen** speichert das angepasste Modell (safetensors). In Python: "
                    "`metademo.load_fitted(path).predict_proba(images)` liefert dieselben Wahrscheinlichkeiten."),
    "compare_intro": """\
Eine *Episode* (N ungesehene Zeichen, K Beispiele von jedem und 5 weitere Zeichnungen von jedem als Anfragen
mit bekannter Antwort) durchläuft jeden Algorithmus. Das Diagramm zeigt den Anteil der Anfragen, den jeder nach
jedem inneren Schritt richtig hat (die gestrichelte Linie ist der Zufall, 1 von N); ein Algorithmus ohne innere
Schleife ist ein einzelner Punkt bei Schritt 0.
""",
    "sine_intro": """\
Das klassische Bild aus dem MAML-Artikel (Finn et al. 2017). Jede *Aufgabe* ist eine Sinuswelle
`y = amplitude * sin(x - phase)`. Aus K Punkten einer neuen Welle machen **MAML** (auf vielen Wellen
meta-trainiert) und eine **Vergleichsbasis** (ein Netz, das auf allen Wellen zugleich trainiert wurde) jeweils
Gradientenschritte. Der Startpunkt von MAML wurde so gewählt, dass wenige Schritte die neue Welle erreichen; der
der Vergleichsbasis nicht.
""",
    "sine_train_help": """\
Trainieren Sie hier ein frisches MAML auf zufälligen Sinuswellen (deutlich unter einer Minute auf zwei CPU-Kernen).
Die Kurve ist der *Meta-Verlust*: der Fehler auf zurückgehaltenen Punkten neuer Wellen **nach** den inneren
Schritten. Wählen Sie danach oben *das gerade trainierte MAML* und passen Sie erneut an.
""",
    "learn": """\
## Was ist Meta-Lernen?
Ein gewöhnlicher Klassifikator lernt *eine* Aufgabe aus Tausenden gelabelter Beispiele. Ein **Meta-Lerner** wird
auf Tausenden *kleiner Aufgaben* trainiert (hier: 5 oder 20 handgeschriebene Zeichen aus 1 oder 5 Beispielen
je Zeichen unterscheiden), damit er gut darin wird, **eine neue kleine Aufgabe schnell zu lernen**.

### Support-Menge und Anfrage-Menge
Jede Aufgabe hat eine **Support-Menge**, die wenigen gelabelten Beispiele, aus denen das Modell lernen darf (in
der App: die Beispiele jeder Klasse), und eine **Anfrage-Menge**, neue Beispiele derselben Klassen, die es danach
klassifizieren muss (in der App: die Anfragen). Beim Meta-Training sind die Antworten auf die Anfragen bekannt und
sagen dem Meta-Lerner, wie gut sein Lernen funktioniert hat.

### Innere und äußere Schleife
* Die **innere Schleife** passt das Modell an eine Aufgabe an: ein paar Gradientenschritte auf der Support-Menge
  (die *inneren Schritte*, mit der *inneren Lernrate*). Das sehen Sie, wenn Sie **Anpassen** drücken.
* Die **äußere Schleife** verbessert den Startpunkt selbst, über viele Aufgaben hinweg, damit die innere Schleife
  gut funktioniert. Sie lief einmal vor dieser Demo (die vortrainierten Modelle); Sie können sie selbst im
  Abschnitt zur äußeren Schleife im Klassifikator-Tab (ein kleiner Klassifikator, eine Minute lang) oder im
  Sinuswellen-Tab laufen lassen.

### Die Algorithmen, in drei Familien
{algorithms}

### Wo die innere Schleife beginnt
Die gradientenbasierten Methoden brauchen einen Klassifikations-*Kopf* (eine Zeile Gewichte pro Klasse) auf dem
Netz, und die Klassen einer neuen Aufgabe sind neu, daher kann der Kopf nicht wie der Rest meta-gelernt werden.
{zero_head} beginnen jede Aufgabe mit einem Kopf aus **Nullen** (Kao et al. 2022): Vor dem ersten Schritt ist jede
Klasse gleich wahrscheinlich (Zufall, und ein Support-Verlust von genau ln N), also haben sie alles, was sie
richtig machen, in den inneren Schritten gelernt, die Sie sehen. {prototype_head} beginnt stattdessen bei den
Klassenmitteln der Einbettungen (Triantafillou et al. 2020): Es liegt schon bei Schritt 0 richtig, und die
Schritte verfeinern. Der Vergleich der beiden zeigt, was ein guter Startkopf bringt.

### Omniglot
Omniglot (Lake et al. 2015) enthält 1.623 handgeschriebene Zeichen aus 50 Alphabeten, jedes von 20 Personen
gezeichnet. Die Modelle wurden nur auf den *Hintergrund*-Alphabeten (background) meta-trainiert; die Galerie und
der Vergleich verwenden die 20 *Evaluations*-Alphabete, die sie nie gesehen haben.
""",
    "stable_loops": """\
### Innere Schleifen, die weiterlernen
Gib einem gradientenbasierten Lerner mehr innere Schritte, als er im Meta-Training hatte, und er kann
*schlechter* werden: sein Startpunkt wurde so abgestimmt, dass genau seine wenigen Standardschritte gut
landen, und weitere Schritte derselben Größe schießen übers Ziel hinaus. Frühere Modelle hier taten das
(Meta-SGD fiel bei Aufgaben mit 10 Klassen bis Schritt 10 von 93 % auf 70 %); die jetzt ausgelieferten wurden
so meta-trainiert, dass sie es nicht tun: verschiebe den Regler *Innere Schritte* unter **Algorithmen
vergleichen**, und jedes hält oder gewinnt über seine Standardschritte hinaus. Veröffentlichte Arbeiten
halten eine innere Schleife auf mehrere Arten stabil (Antoniou et al. 2019, „How to train your MAML“):
* ein **Mehrschritt-Verlust**: die äußere Schleife bewertet das Modell nach *jedem* inneren Schritt, nicht
  nur nach dem letzten, sodass jeder Schritt helfen muss;
* Meta-Training über einen **Bereich von Schrittzahlen** und Klassenzahlen, damit ein Modell für jede Zahl
  von Schritten und Klassen taugt;
* eine **kleinere innere Lernrate** oder eine, die für jede Schicht und jeden Schritt gelernt wird: MAML und
  Meta-SGD haben hier einen ersten Schritt des Klassenkopfs von zweieinhalb- bis dreieinhalbmal der Grundgröße
  gelernt (von einem Kopf aus Nullen legt er nur fest, wie sicher das Modell ist) und kleinere danach (bis auf
  ein Viertel oder Drittel), wo eine Größe für alle Schritte übers Ziel hinausschoss;
* ein **Schritt für den Klassenkopf, der nicht mit der Zahl der Klassen wächst**: ein Kopfschritt, der mit
  den Klassen wächst, passt zu den Breiten aus dem Meta-Training, schießt aber bei breiteren Aufgaben übers
  Ziel hinaus;
* Meta-Gradienten **erster Ordnung** zu Beginn des Meta-Trainings und exakte danach, und eine äußere Lernrate,
  die zum Ende des Trainings kleiner wird.

Im Tab **2-D-Navigation** wurden MAML und MAML erster Ordnung mit dem Mehrschritt-Verlust über 1 bis 3
Schritte und mit kleiner innerer Schrittweite meta-trainiert: ein Schritt halbiert den Abstand zum Ziel, und
die nächsten halten ihn dort (für einen einzigen, zehnmal größeren Schritt trainiert, schoss der zweite Schritt
von MAML übers Ziel hinaus).
""",
    "three_pictures": (
        "### Drei Bilder des Meta-Lernens, nebeneinander\n\n"
        "| | Klassifikation mit wenigen Beispielen | Sinuswellen-Regression | 2-D-Navigation (bestärkendes Lernen) |\n"
        "|---|---|---|---|\n"
        "| **Eine Aufgabe** | N neue Zeichenklassen unterscheiden | eine Sinuswelle anpassen (ihre Amplitude und "
        "Phase) | ein verstecktes Ziel in der Ebene erreichen |\n"
        "| **Support-Menge** | K gelabelte Zeichnungen jeder Klasse | K Punkte (x, y) der Welle | Episoden, die "
        "die Strategie selbst zieht, mit ihren Belohnungen |\n"
        "| **Innere Schleife** | Gradientenschritte auf der Kreuzentropie des Supports | Gradientenschritte auf dem "
        "quadratischen Fehler des Supports | Policy-Gradient-Schritte auf dem Ertrag der gezogenen Episoden |\n"
        "| **Bewertet an** | der Genauigkeit auf den Anfrage-Zeichnungen | dem Fehler über die ganze Welle | dem "
        "Ertrag neuer Episoden nach dem Anpassen |\n"
        "| **Äußere Schleife** | das angepasste Modell soll Anfragen gut klassifizieren, über viele Aufgaben | "
        "ein Schritt soll jede Welle treffen | wenige Schritte sollen jedes Ziel erreichen (ihr Meta-Gradient "
        "geht auch dadurch, wie die Episoden gezogen wurden) |\n"),
    "accuracy_missing": """\
### Gemessene Genauigkeit
Noch nicht gemessen: Die Benchmark-Tabelle (`docs/accuracy.md`) erscheint hier, sobald die mitgelieferten
Modelle ausgewertet sind.
""",
    "api_help": """\
### Aus einem Programm nutzen
Die wichtigsten Aktionen dieser Seite sind auch API-Endpunkte (siehe *Use via API* unten auf der Seite). Der
wichtigste, `/classify`, passt ein Modell an gelabelte Bilder an und klassifiziert Anfragen in einem Aufruf:

```python
from gradio_client import Client, handle_file

client = Client("http://127.0.0.1:7860/")
result = client.predict(
    "maml",                                            # Algorithmus
    [handle_file("a1.png"), handle_file("b1.png")],    # Support-Bilder
    ["alpha", "beta"],                                 # ein Label pro Support-Bild
    [handle_file("query.png")],                        # zu klassifizierende Bilder
    None,                                              # innere Schritte (None: die des Modells)
    None,                                              # innere Lernrate (None: die des Modells)
    api_name="/classify",
)
result["classes"], result["probabilities"], result["predictions"], result["history"]
```
Sie können es auch im Formular unten ausprobieren.
""",
    "gallery_omniglot": ("Galerie: **Evaluations-Alphabete von Omniglot** (659 Zeichen, die die Modelle beim "
                         "Meta-Training nie gesehen haben)."),
    "gallery_synthetic": "Galerie: **synthetische Glyphen** (erfundene Zeichen, von einem Programm gezeichnet).",
    "gallery_loading": "Omniglot wird geladen; die Galerie wechselt, sobald es bereit ist.",
    "gallery_downloading": ("Omniglot ist nicht auf diesem Rechner; der Evaluationsdatensatz wird im Hintergrund "
                            "heruntergeladen."),
    "gallery_unavailable": "Omniglot ist auf diesem Rechner nicht verfügbar.",
    "navigation_intro": """\
Ein Punkt startet in der Mitte und wählt in jedem von 100 Schritten eine Geschwindigkeit; seine Belohnung ist
minus sein Abstand zu einem **versteckten Ziel**. Die Aufgabe ist das Ziel. **Klicken Sie irgendwo in das
Quadrat**, um eines zu verstecken (oder ziehen Sie eines zufällig): Die Strategie zieht 20 Episoden, macht einen
Policy-Gradient-Schritt auf deren Belohnungen, zieht 20 weitere und so fort. Graue Pfade sind vor dem Anpassen,
dann blau, grün, orange nach den Schritten 1, 2, 3. MAML wurde so meta-trainiert, dass diese wenigen Schritte auf
das Ziel zusteuern; die Vergleichsbasis, auf allen Zielen zugleich trainiert, lernte ein durchschnittliches
Verhalten. Im gestrichelten Quadrat hat das Meta-Training seine Ziele gezogen.
""",
    "episode_hint": ("Drücken Sie *Neue Episode*, um eine zu ziehen (oder *Ausführen*, das bei Bedarf eine "
                     "zieht)."),
    "nav_hint": "Klicken Sie in das Quadrat, um ein Ziel zu verstecken.",
    "tab_classifier": "Klassifikator mit wenigen Beispielen",
    "tab_compare": "Algorithmen vergleichen",
    "tab_sine": "Sinuswellen-Regression (Unterricht)",
    "tab_navigation": "2-D-Navigation (bestärkendes Lernen)",
    "tab_learn": "Verstehen",
    "heading_capture": "### 1. Ein Zeichen zeichnen oder zeigen",
    "heading_classes": "### 2. Ihre Klassen",
    "heading_adapt": "### 3. Anpassen: die innere Schleife",
    "heading_queries": "### 4. Anfragen: Was hält das angepasste Modell davon?",
    "heading_save": "### 5. Speichern und teilen",
    "heading_outer": "### 6. Die äußere Schleife beobachten: ein Modell selbst meta-trainieren",
    "heading_sine_train": "### MAML selbst meta-trainieren",
    "heading_nav_train": "### MAML selbst meta-trainieren (etwa zwei Minuten auf zwei CPU-Kernen für 100 Iterationen)",
    "label_pad": "Zeichenfläche",
    "label_webcam": "Webcam",
    "label_live": "Live-Vorschau der Zeichenfläche",
    "label_pad_preview": "Vorschau der Zeichenfläche",
    "label_num_classes": "Anzahl der Klassen",
    "label_k_gallery": "Zeichnungen pro Galerie-Auswahl (K)",
    "label_class_name": "Klasse {n}: Name",
    "label_class_examples": "Klasse {n}: Beispiele",
    "label_upload": "Hochladen",
    "label_drawing": "Zeichnung",
    "label_photo": "Foto",
    "label_gallery": "Galerie",
    "label_remove": "Auswahl entfernen",
    "label_clear": "Leeren",
    "label_algorithm": "Algorithmus",
    "label_steps": "Innere Schritte",
    "label_lr": "Innere Lernrate",
    "label_adapt": "Anpassen",
    "label_adapt_plot": "Anpassung",
    "label_step": "Unten gezeigter Schritt",
    "label_queries": "Anfragen (zum Auswählen anklicken)",
    "label_classify": "Klassifizieren",
    "label_pred_plot": "Vorhersagen beim gewählten Schritt",
    "label_pred_table": "Vorhersagen (Tabelle)",
    "label_embed_plot": "Einbettungskarte beim gewählten Schritt",
    "label_download_task": "Aufgabe herunterladen",
    "label_open_task": "Aufgabe öffnen",
    "label_download_classifier": "Klassifikator herunterladen",
    "label_save_again": "Letzte Datei erneut speichern",
    "label_live_algorithm": "Zu meta-trainierender Algorithmus",
    "label_live_seconds": "Trainingszeit (Sekunden)",
    "label_outer_plot": "Äußere Schleife",
    "label_meta_train": "Meta-trainieren",
    "label_n_way": "N Klassen (N-way)",
    "label_k_shot": "K Beispiele (K-shot)",
    "label_queries_per_class": "Anfragen pro Klasse",
    "label_inner_steps": "Innere Schritte",
    "label_new_episode": "Neue Episode",
    "label_run_compare": "Alle Algorithmen auf dieser Episode ausführen",
    "label_support_set": "Support-Menge (die gelabelten Beispiele, eine Spalte pro Klasse)",
    "label_comparison": "Vergleich",
    "label_results": "Ergebnisse (Genauigkeit auf den Anfragen)",
    "label_amplitude": "Amplitude",
    "label_phase": "Phase",
    "label_k_points": "K Punkte",
    "label_sine_steps": "Schritte",
    "label_learning_rate": "Lernrate",
    "label_points_seed": "Startwert der Punkte",
    "label_maml_model": "MAML-Modell",
    "label_new_points": "Neue Punkte",
    "label_sine_plot": "Sinuswelle",
    "label_iterations": "Meta-Trainings-Iterationen",
    "label_training_seed": "Startwert des Trainings",
    "label_train_maml": "MAML meta-trainieren",
    "label_meta_training_plot": "Meta-Training",
    "label_policy": "Strategie",
    "label_episodes_seed": "Startwert der Episoden",
    "label_random_goal": "Zufälliges Ziel",
    "label_nav_field": "MAML: klicken, um das Ziel zu setzen",
    "label_nav_baseline": "Vergleichsbasis (auf allen Zielen vortrainiert)",
    "label_nav_returns": "Ertrag pro Schritt",
    "label_try_classify": "/classify hier ausprobieren",
    "info_num_classes": "Wie viele Klassen (Zeichen) das Modell unterscheiden muss.",
    "info_k_gallery": "Wie viele Zeichnungen die Galerie-Schaltfläche in eine Klasse legt.",
    "info_algorithm": "Welcher Meta-Lerner sich an Ihre Klassen anpasst.",
    "info_steps": "Innere Schritte: Gradientenschritte auf Ihren Beispielen. 0 = der vortrainierte Startpunkt.",
    "info_lr": "Innere Lernrate: die Größe jedes Schritts. Viel zu groß lässt das Modell divergieren.",
    "info_live_algorithm": ("Prototypical Networks lernen am schnellsten; first-order MAML braucht viel länger, um "
                            "den Zufall zu schlagen."),
    "info_live_seconds": ("Wie lange die äußere Schleife läuft (die zwei Prozessorkerne der App sind "
                          "währenddessen belegt)."),
    "info_step_shown": ("Welchen inneren Schritt die Vorhersagen und die Einbettungskarte unten zeigen (0 = vor dem "
                        "Anpassen)."),
    "info_n_way": "N-way: wie viele Zeichen die Episode hat.",
    "info_k_shot": "K-shot: wie viele gelabelte Beispiele je Zeichen.",
    "info_queries": "Anfragen pro Klasse: ungelabelte Zeichnungen zum Klassifizieren (ihre Antworten sind bekannt).",
    "info_compare_steps": ("Innere Schritte der gradientenbasierten Algorithmen (jeder nutzt seine eigene "
                           "Standard-Lernrate)."),
    "info_amplitude": "Höhe der Welle.",
    "info_phase": "Verschiebung der Welle nach rechts.",
    "info_k_points": "K: wie viele Punkte der neuen Welle die Modelle sehen.",
    "info_sine_steps": "Gradientenschritte, die jedes Modell auf den K Punkten macht.",
    "info_sine_lr": "Schrittweite dieser Gradientenschritte.",
    "info_iterations": ("Meta-Trainings-Iterationen, jede auf einem Stapel von 25 neuen Wellen (2000 dauern etwa "
                        "eine halbe Minute)."),
    # --- texts made while the page answers ---------------------------------------------------------------
    "learn_family": "**Diejenigen, die {what}:**",
    "and": " und ",
    "note_pair": ("{summary} Schritte und Lernrate gelten hier nicht; das Diagramm zeigt den {label} jeder Anfrage "
                  "mit jeder Klasse, die Einbettungskarte, was sein Einbettungsmodul tut."),
    "note_metric": "{summary} Schritte und Lernrate gelten hier nicht; die Einbettungskarte zeigt, was es tut.",
    "note_steps": "{summary} Jede Aufgabe beginnt mit {head}.",
    "checkpoint_defaults": " Standardwerte des gespeicherten Modells: {steps} Schritte, Lernrate {lr:g}.",
    "device": "Die Modelle laufen auf **{type}**",
    "device_threads": " ({threads} Threads)",
    "device_bfloat16": ", innere Schritte in bfloat16",
    "generic_error": "Auf dem Server ist etwas schiefgegangen (es wurde protokolliert). Bitte versuchen Sie es erneut.",
    "col_query": "Anfrage", "col_prediction": "Vorhersage", "col_confidence": "Konfidenz",
    "col_answer": "richtige Antwort", "col_correct": "richtig?",
    "right": "✓ richtig", "wrong": "✗ falsch", "tie": "ein Gleichstand",
    "yours": "Ihr meta-trainiertes Modell",
    "image": "Bild",
    "not_adapted": "Drücken Sie zuerst „Anpassen“: Das Modell hat Ihre Klassen noch nicht gelernt.",
    "classes_range": "Verwenden Sie {low} bis {high} Klassen; es sind {count}.",
    "same_name": "Zwei Klassen heißen {name!r}: Geben Sie jeder Klasse einen eigenen Namen.",
    "no_examples": ("Klasse {n} ({name!r}) hat noch keine Beispiele: Laden Sie welche hoch, fügen Sie eine Zeichnung "
                    "oder ein Foto hinzu oder drücken Sie „Galerie“."),
    "too_many_examples": ("Klasse {n} ({name!r}) hat {count} Beispiele; höchstens {limit} pro Klasse werden "
                          "verwendet. Entfernen Sie einige."),
    "bad_example": "Klasse {n} ({name!r}), Beispiel {k}: {reason}",
    "bad_query": "Anfrage {n} ({name}): {reason}",
    "map_after_adapt": "Die Einbettungskarte erscheint nach dem Anpassen.",
    "before_adapting": "vor dem Anpassen (Schritt 0)",
    "after_one_step": "nach 1 innerem Schritt",
    "after_steps": "nach {n} inneren Schritten",
    "no_inner_steps": "ohne innere Schritte",
    "map_title": "Einbettungen {when}<br><sup>2-D-PCA, dieselben Achsen für jeden Schritt</sup>",
    "add_queries": "Fügen Sie Anfragen hinzu (Hochladen, Zeichnung, Foto oder Galerie), um Vorhersagen zu sehen.",
    "pair_title": "{title}: der {label} jeder Anfrage mit jeder Klasse (ohne innere Schritte)",
    "no_steps_scores": "{title} hat keine inneren Schritte. Fügen Sie Anfragen hinzu, um ihren {label} zu sehen.",
    "no_steps_map": "{title} hat keine inneren Schritte: Die Karte unten zeigt, was es tut.",
    "adapting_title": "{title} passt sich an Ihre {count} Klassen an",
    "not_trained": "Sie haben noch kein Modell meta-trainiert: Drücken Sie zuerst „Meta-trainieren“ in Abschnitt 6.",
    "diverged": ("Die Anpassung divergierte bei Schritt {step}: Die Lernrate {lr:g} ist zu groß. Die Vorhersagen "
                 "verwenden Schritt {used}, den letzten guten. Versuchen Sie eine kleinere Lernrate."),
    "exploded": ("Der Support-Verlust ist explodiert (bis {peak:.3g}, von {start:.3g}): Die Lernrate {lr:g} ist zu "
                 "groß, die Schritte schießen über das Ziel hinaus. Versuchen Sie eine kleinere Lernrate."),
    "adapting": "Anpassen",
    "step_status": "**{title}**: Schritt {step} von {steps} · Support-Verlust {loss:.3f}",
    "adapted_status": ("**{title}** hat sich an {classes} Klassen aus {examples} Beispielen angepasst: {steps} "
                       "Schritte mit Lernrate {lr:g} in {ms:.0f} ms. Support-Genauigkeit {accuracy:.0f} %, Verlust "
                       "{loss:.3f}. Bewegen Sie den *Schritt*-Regler, um jeden Schritt zu sehen."),
    "fitted_status": ("**{title}**: {fitted_as} für {classes} Klassen aus {examples} Beispielen in {ms:.0f} ms "
                      "(ohne innere Schritte)."),
    "no_ink": ("Keine klare Tinte auf dem Foto. Die Modelle kennen handgeschriebene Zeichen: Halten Sie ein Zeichen "
               "hoch, das mit einem dunklen, dicken Stift auf weißes Papier gezeichnet ist und die Bildmitte "
               "ausfüllt, und versuchen Sie es erneut."),
    "no_camera": ("Die Webcam ist nicht an: Drücken Sie auf das Kamerabild über den Klassenkarten, erlauben Sie dem "
                  "Browser die Kamera und drücken Sie dann erneut Foto."),
    "empty_pad": ("Die Zeichenfläche ist leer: Zeichnen Sie zuerst ein Zeichen darauf (wenn Sie gerade eines "
                  "gezeichnet haben, wird es vielleicht noch gespeichert: Warten Sie eine Sekunde und drücken Sie "
                  "erneut Zeichnung)."),
    "kept_some": "Hier höchstens {limit} Bilder; {room} der {count} neuen wurden behalten.",
    "skipped": "Übersprungen, weil kein brauchbares Bild: {files}",
    "full": "Hier höchstens {limit} Bilder: Entfernen Sie zuerst eines.",
    "select_first": "Klicken Sie zuerst auf ein Bild, um es auszuwählen, und drücken Sie dann „Auswahl entfernen“.",
    "gallery_first": ("Füllen Sie zuerst mindestens eine Klasse mit „Galerie“: Die Galerie-Anfragen sind neue "
                      "Zeichnungen dieser Zeichen, daher sind die richtigen Antworten bekannt."),
    "task_needs_examples": ("Klasse {n} ({name!r}) hat noch keine Beispiele: Eine Aufgabe braucht Beispiele jeder "
                            "Klasse."),
    "choose_task": "Wählen Sie eine Aufgabendatei (.zip), die mit „Aufgabe herunterladen“ gespeichert wurde.",
    "task_classes": ("Diese Aufgabe hat {count} Klassen; die Seite zeigt {low} bis {high} (in Python öffnet "
                     "metademo.load_task sie mit bis zu {most})."),
    "opened_task": ("Aufgabe mit {count} Klassen ({names}), {examples} Beispielen und {queries} Anfragen geöffnet. "
                    "Drücken Sie **Anpassen**."),
    "nothing_to_download": ("Drücken Sie zuerst „Anpassen“: Es gibt noch keinen angepassten Klassifikator zum "
                            "Herunterladen."),
    "train_first": ("⚠️ Sie haben noch kein Modell meta-trainiert: Drücken Sie **Meta-trainieren** in Abschnitt 6 und "
                    "passen Sie dann hier damit an."),
    "your_model": "Ihr Modell: {note}. ",
    "live_runs": "Das Live-Meta-Training führt {titles} aus.",
    "busy": ("Gerade meta-trainiert jemand ein Modell (eines nach dem anderen, da es den ganzen Prozessor belegt). "
             "Versuchen Sie es in einer Minute erneut."),
    "loading_alphabets": "Trainingsalphabete werden geladen",
    "meta_training_title": "{title} wird von einem zufälligen Start aus meta-trainiert",
    "meta_training": "Meta-Training",
    "iteration_status": ("Iteration {iteration} · {seconds:.0f} s Training · Validierungsgenauigkeit "
                         "**{accuracy:.0f} %** auf ungesehenen Zeichen · Daten: {data}"),
    "done_status": ("Fertig: {iteration} Iterationen der äußeren Schleife in {seconds:.0f} s; Validierungsgenauigkeit "
                    "von {start:.0f} % (zufälliger Start) auf **{accuracy:.0f} %**. *{yours}* ist jetzt in "
                    "Abschnitt 3 gewählt: Drücken Sie **Anpassen**, um es neben den vortrainierten auf Ihre Klassen "
                    "anzuwenden."),
    "inner_step": "innerer Schritt",
    "loss_axis": "Verlust (Kreuzentropie)",
    "loss_axis_log": "Verlust (Kreuzentropie, logarithmische Skala)",
    "accuracy_axis": "Genauigkeit (%)",
    "chance": "Zufall ({percent:.0f} %)",
    "uniform_loss": "Verlust einer gleichverteilten Schätzung (ln {n})",
    "diverged_mark": "divergiert",
    "support_loss": "Support-Verlust",
    "support_accuracy": "Support-Genauigkeit (%)",
    "query_accuracy": "Genauigkeit auf den Anfragen (%)",
    "queries_trace": "Anfragen",
    "axis_1": "Hauptachse 1",
    "axis_2": "Hauptachse 2",
    "tie_mark": " (Gleichstand)",
    "query_row": "Anfrage {n}: <b>{shown}</b> ({percent:.0f} %)",
    "it_is": " (es ist {name})",
    "query": "Anfrage",
    "class": "Klasse",
    "validation_trace": "Validierung: Aufgaben mit 5 Klassen und 1 Beispiel, ungesehene Zeichen (%)",
    "training_trace": "Trainingsaufgaben (%)",
    "outer_axis": "Iteration der äußeren Schleife (je ein Meta-Stapel von Aufgaben)",
    "outer_accuracy_axis": "Genauigkeit auf den Anfragen nach dem Anpassen (%)",
    "col_algorithm": "Algorithmus", "col_inner_steps": "innere Schritte", "col_before": "vor dem Anpassen (Schritt 0)",
    "col_after_last": "nach dem letzten Schritt", "col_after_default": "nach seinen Standardschritten",
    "col_time": "Zeit (ms)",
    "default_steps_cell": "{percent:.0f} % ({steps} Schritte)",
    "too_many_drawings": ("K-shot + Anfragen pro Klasse dürfen höchstens {most} sein (jedes Zeichen hat {most} "
                          "Zeichnungen); es sind {k} + {q}."),
    "support_caption": "Klasse {n}: {key}",
    "kind_synthetic": "synthetischen Glyphen", "kind_omniglot": "Evaluationszeichen von Omniglot",
    "episode_info": ("**Episode mit {n} Klassen und {k} Beispielen (N-way, K-shot)** aus {kind} (von den Modellen "
                     "nie gesehen), {q} Anfragen pro Klasse: {characters}"),
    "adapting_algorithm": "{title} wird angepasst",
    "skipped_algorithm": "{title} übersprungen: {reason}",
    "nothing_to_compare": "Kein vortrainiertes Modell konnte geladen werden, daher gibt es nichts zu vergleichen.",
    "sine_pretrained": "MAML (vortrainiert)",
    "choice_pretrained": "vortrainiertes MAML", "choice_trained": "das von Ihnen trainierte MAML",
    "sine_yours": "Ihr MAML ({iterations} Iterationen)",
    "sine_baseline": "Vergleichsbasis (auf allen Wellen vortrainiert)",
    "no_trained_maml": ("Sie haben noch kein MAML meta-trainiert (drücken Sie „MAML meta-trainieren“); das "
                        "vortrainierte wird gezeigt."),
    "sine_status": "Schritt {step} von {steps}. Fehler über die ganze Welle (MSE): {errors}",
    "diverged_word": "divergiert",
    "sine_diverged": "Ein Modell ist divergiert: Die Lernrate {lr:g} ist für diese Punkte zu groß.",
    "meta_training_maml": "MAML wird meta-trainiert",
    "sine_iteration": "Iteration {iteration} von {iterations} · Meta-Verlust {loss:.3f} · {seconds:.0f} s",
    "sine_done": ("Fertig: {iterations} Iterationen in {seconds:.0f} s, finaler Meta-Verlust {loss:.3f}. „Das von "
                  "Ihnen trainierte MAML“ ist oben gewählt: Drücken Sie **Anpassen**, um es eine neue Welle lernen "
                  "zu sehen."),
    "panel_title": "<b>{name}</b>: nach {step} von {steps} Schritten",
    "true_wave": "wahre Welle", "prediction": "Vorhersage", "earlier_steps": "frühere Schritte",
    "k_points_trace": "K = {k} Punkte",
    "meta_loss": "Meta-Verlust", "meta_iteration": "Meta-Trainings-Iteration",
    "loss_after_adapting": "Verlust nach dem Anpassen (MSE)",
    "sine_training_title": "MAML wird auf Sinuswellen meta-trainiert",
    "whole_number": "{what}: erwartet wird eine ganze Zahl von {low} bis {high}, erhalten {got}",
    "number_above": "{what}: erwartet wird eine Zahl über {low} und höchstens {high}, erhalten {got}",
    "number_at_least": "{what}: erwartet wird eine Zahl von mindestens {low} und höchstens {high}, erhalten {got}",
    "what_classes": "Anzahl der Klassen", "what_gallery": "Anzahl der Galerie-Zeichnungen", "what_n_way": "N-way",
    "what_k_shot": "K-shot", "what_queries": "Anfragen pro Klasse", "what_inner_steps": "Innere Schritte",
    "what_steps": "Schritte", "what_seed": "Startwert", "what_iterations": "Iterationen",
    "what_training_time": "Trainingszeit", "what_lr": "Innere Lernrate",
    "nav_status": "Ziel ({x:+.2f}, {y:+.2f}). Ertrag vor dem Anpassen → nach {steps} Schritten: {returns}",
    "nav_paths": "{name}: Pfade nach jedem Schritt",
    "nav_done": ("Fertig: {iterations} Iterationen. „Das von Ihnen trainierte MAML“ ist gewählt: Klicken Sie auf ein "
                 "Ziel, um es sich anpassen zu sehen."),
    "nav_iteration": ("Iteration {iteration} von {iterations} · {seconds:.0f} s · Ertrag {before:.1f} vor dem "
                      "Anpassen, {after:.1f} nach einem Schritt"),
    "nav_returns_title": "Ertrag pro Schritt (Mittel über 20 Episoden)",
    "inner_steps_axis": "innere Schritte", "return_axis": "Ertrag",
    "before_adapting_trace": "vor dem Anpassen", "after_one_step_trace": "nach 1 Schritt",
    "nav_training_title": "Ertrag auf Validierungszielen während des Meta-Trainings",
    "outer_iterations": "äußere Iterationen",
}

#: The algorithm registry's descriptions ("field:name"; "family:<family>" for a family's).
_ZERO_HEAD = ("einem Kopf aus Nullen: Er sagt jede Klasse gleich wahrscheinlich vorher (Zufall), bis die inneren "
              "Schritte gelernt haben")
ALGORITHMS = {
    "family:initialisation": "eine Initialisierung lernen, die wenige Gradientenschritte an jede Aufgabe anpassen",
    "family:metric": "Einbettungen mit einer festen Metrik vergleichen",
    "family:relation": "den Vergleich selbst lernen",
    "summary:maml": ("MAML hat einen Startpunkt gelernt, von dem aus wenige Gradientenschritte auf Ihren Beispielen "
                     "diese gut treffen. Seine äußere Schleife differenziert *durch* diese Schritte hindurch."),
    "summary:fomaml": ("First-order MAML: wie MAML, aber billiger zu meta-trainieren, weil seine äußere Schleife die "
                       "zweiten Ableitungen der inneren Schritte ignoriert."),
    "summary:metasgd": ("Meta-SGD hat seinen Startpunkt *und* eine Schrittweite für jedes Gewicht gelernt (die "
                        "Lernrate hier skaliert sie), sodass jeder Schritt weit gehen kann."),
    "summary:reptile": ("Reptile hat seinen Startpunkt gelernt, indem es wiederholt ein paar Schritte auf einer "
                        "einzelnen Aufgabe trainierte und den Startpunkt ein Stück zum Ergebnis hin schob."),
    "summary:protomaml": ("Proto-MAML ist MAML mit einem Kopf, der bei den Klassenmitteln der Einbettungen beginnt, "
                          "sodass die inneren Schritte einen schon guten Klassifikator verfeinern."),
    "summary:protonet": ("Prototypical Networks haben keine inneren Schritte: Jede Klasse ist die mittlere Einbettung "
                         "(ihr *Prototyp*) ihrer Beispiele, und eine Anfrage geht zum nächsten Prototyp."),
    "summary:matchingnet": ("Matching Networks haben keine inneren Schritte: Eine Anfrage betrachtet jedes Beispiel, "
                            "gewichtet es danach, wie ähnlich ihre Einbettungen ausgerichtet sind "
                            "(Kosinus-Ähnlichkeit), und jede Klasse erhält das Gewicht ihrer Beispiele."),
    "summary:relationnet": ("Relation Networks lernen den Vergleich selbst: Ein kleines Netz betrachtet eine Anfrage "
                            "neben den Beispielen jeder Klasse und gibt dem Paar einen Relationswert von 0 (nicht "
                            "verwandt) bis 1 (dieselbe Klasse)."),
    **{f"head_description:{name}": _ZERO_HEAD for name in ("maml", "fomaml", "metasgd", "reptile")},
    "head_description:protomaml": ("einem Kopf aus den Klassenmitteln der Einbettungen der Beispiele (Prototypen): "
                                   "Er klassifiziert schon vor dem ersten Schritt wie Prototypical Networks"),
    "fitted_as:protonet": "Prototypen",
    "fitted_as:matchingnet": "eingebettete Beispiele für die Aufmerksamkeit",
    "fitted_as:relationnet": "Merkmalskarten der Klassen zum Vergleichen",
    "pair_score_label:relationnet": "Relationswert",
    **{f"centre_name:{name}": "Klassenzentrum" for name in ("maml", "fomaml", "metasgd", "reptile", "protomaml",
                                                             "matchingnet", "relationnet")},
    "centre_name:protonet": "Prototyp",
}
