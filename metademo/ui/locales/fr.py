"""The page in French (see :mod:`metademo.ui.i18n`): the keys and ``{placeholders}`` of the English tables."""

STRINGS = {
    # --- static texts ---------------------------------------------------------------------------------
    "header": """\
# metademo : apprendre à apprendre, en direct
Le méta-apprentissage entraîne un modèle sur *beaucoup de petites tâches* pour qu'il puisse apprendre une tâche
**nouvelle** à partir d'une poignée d'exemples. Ici, {count} méta-apprenants, pré-entraînés sur les alphabets
d'Omniglot, découvrent des caractères qu'ils n'ont jamais vus. Donnez-leur quelques exemples de chaque classe et
regardez-les s'adapter.
""",
    "classifier_intro": """\
**Mode d'emploi :** 1) donnez quelques exemples à chaque classe : *importez* des images, dessinez sur la
tablette et appuyez sur **Dessin**, montrez un dessin à la webcam et appuyez sur **Photo**, ou appuyez sur
**Galerie** pour obtenir des dessins d'un caractère que les modèles n'ont jamais vu ; 2) appuyez sur **Adapter**
et regardez le modèle apprendre à partir d'eux (l'*ensemble de support*), pas à pas ; 3) ajoutez des *requêtes*,
ou dessinez simplement, et lisez à quel point le modèle est sûr de lui.
""",
    "sketch_help": ("Dessinez un caractère à la souris, au doigt ou au stylet, puis appuyez sur **Dessin** dans une "
                    "classe (ou sous *Requêtes*) : il est ajouté et la tablette s'efface d'elle-même pour le suivant."),
    "webcam_help": ("Appuyez sur l'image de la caméra et autorisez le navigateur à l'utiliser. Montrez un caractère "
                    "tracé au feutre foncé sur du papier blanc, au milieu de l'image, et appuyez sur **Photo** dans "
                    "une classe."),
    "live_help": ("Après **Adapter**, les barres montrent ce que le modèle adapté pense du dessin de la tablette, et "
                  "elles changent pendant que vous dessinez : une barre par classe."),
    "capture_help": ("Chaque carte de classe : **Importer** (plusieurs fichiers à la fois), **Dessin** (depuis la "
                     "tablette), **Photo** (depuis la webcam), **Galerie** (K dessins d'un nouveau caractère). "
                     "Cliquez sur un exemple pour le sélectionner pour *Retirer la sélection* ; *Vider* vide la "
                     "carte."),
    "query_help": ("Les requêtes sont classées dès qu'elles sont ajoutées. *Galerie* ajoute un nouveau dessin de "
                   "chaque caractère de galerie présent dans vos classes : la bonne réponse est donc connue (vert = "
                   "juste, rouge = faux)."),
    "task_help": ("**Télécharger la tâche** enregistre les noms des classes et leurs images (et les requêtes) dans un "
                  "seul fichier zip ; **Ouvrir une tâche** recharge un tel fichier, par exemple une tâche préparée "
                  "par un enseignant."),
    "outer_loop_help": ("Les modèles pré-entraînés ont appris *à apprendre* dans une boucle externe sur des milliers "
                        "de petites tâches. Vous pouvez en regarder une ici : un petit modèle part de poids "
                        "aléatoires et se méta-entraîne sur des tâches tirées des alphabets d'entraînement "
                        "d'Omniglot ; toutes les quelques itérations, il est évalué sur des tâches de caractères sur "
                        "lesquels il ne s'entraîne jamais. Une seule exécution à la fois pour toute l'application. "
                        "Pourquoi le premier choix obtient déjà environ 65 % (le hasard donne 20 %) avant sa "
                        "première itération : même des poids de convolution aléatoires envoient deux dessins du même "
                        "caractère vers des points proches, et il répond avec la moyenne de classe la plus proche, "
                        "donc il bat le hasard sans entraînement ; la boucle externe éloigne ensuite beaucoup plus "
                        "ces points les uns des autres. L'autre choix commence chaque tâche avec une tête de zéros, "
                        "donc au niveau du hasard."),
    "export_help": ("**Télécharger le classifieur** enregistre le modèle adapté (safetensors). En Python : "
                    "`metademo.load_fitted(path).predict_proba(images)` donne les mêmes probabilités."),
    "compare_intro": """\
Un *épisode* (N caractères inédits, K exemples de chacun, et 5 dessins de plus de chacun comme requêtes
dont la réponse est connue) passe par tous les algorithmes. Le graphique montre la part des requêtes que
chacun réussit après chaque pas interne (la ligne en tirets est le hasard, 1 sur N) ; un algorithme sans
boucle interne est un seul point au pas 0.
""",
    "sine_intro": """\
L'image classique de l'article de MAML (Finn et al. 2017). Chaque *tâche* est une sinusoïde
`y = amplitude * sin(x - phase)`. À partir de K points d'une nouvelle onde, **MAML** (méta-entraîné sur de
nombreuses ondes) et une **référence** (un réseau entraîné sur toutes les ondes à la fois) font chacun des pas de
gradient. Le point de départ de MAML a été choisi pour que quelques pas atteignent la nouvelle onde ; celui de la
référence, non.
""",
    "sine_train_help": """\
Méta-entraînez un nouveau MAML sur des sinusoïdes aléatoires, ici même (bien moins d'une minute sur deux cœurs de
CPU). La courbe est la *méta-perte* : l'erreur sur des points réservés de nouvelles ondes **après** les pas
internes. Une fois terminé, choisissez *le MAML que vous venez d'entraîner* ci-dessus et adaptez à nouveau.
""",
    "learn": """\
## Qu'est-ce que le méta-apprentissage ?
Un classifieur ordinaire apprend *une* tâche à partir de milliers d'exemples étiquetés. Un **méta-apprenant** est
entraîné sur des milliers de *petites tâches* (ici : distinguer 5 ou 20 caractères manuscrits à partir de 1 ou 5
exemples de chacun) pour devenir bon à **apprendre vite une nouvelle petite tâche**.

### Ensemble de support et ensemble de requêtes
Chaque tâche a un **ensemble de support**, les quelques exemples étiquetés dont le modèle peut apprendre (dans
l'application : les exemples de chaque classe), et un **ensemble de requêtes**, de nouveaux exemples des mêmes
classes qu'il doit ensuite classer (dans l'application : les requêtes). Pendant le méta-entraînement, les réponses
aux requêtes sont connues et indiquent au méta-apprenant si son apprentissage a bien fonctionné.

### Boucle interne et boucle externe
* La **boucle interne** adapte le modèle à une tâche : quelques pas de gradient sur l'ensemble de support (les
  *pas internes*, avec le *taux d'apprentissage interne*). C'est ce que vous voyez en appuyant sur **Adapter**.
* La **boucle externe** améliore le point de départ lui-même, sur de nombreuses tâches, pour que la boucle interne
  fonctionne bien. Elle a tourné une fois, avant cette démo (les modèles pré-entraînés) ; vous pouvez la lancer
  vous-même dans la section boucle externe de l'onglet du classifieur (un petit classifieur, pendant une minute)
  ou dans l'onglet de la sinusoïde.

### Les algorithmes, en trois familles
{algorithms}

### Où commence la boucle interne
Les méthodes à base de gradient ont besoin d'une *tête* de classification (une ligne de poids par classe) au-dessus
du réseau, et les classes d'une nouvelle tâche sont nouvelles : la tête ne peut donc pas être méta-apprise comme le
reste. {zero_head} commencent chaque tâche avec une tête de **zéros** (Kao et al. 2022) : avant le premier pas,
toutes les classes sont également probables (le hasard, et une perte de support d'exactement ln N), donc tout ce
qu'ils réussissent, ils l'ont appris pendant les pas internes que vous regardez. {prototype_head} part au contraire
des moyennes par classe des plongements (Triantafillou et al. 2020) : il est déjà juste au pas 0, et les pas
affinent. Comparer les deux montre ce qu'apporte une bonne tête de départ.

### Omniglot
Omniglot (Lake et al. 2015) compte 1 623 caractères manuscrits issus de 50 alphabets, chacun dessiné par 20
personnes. Les modèles ont été méta-entraînés uniquement sur les alphabets de *fond* (background) ; la galerie et
la comparaison utilisent les 20 alphabets d'*évaluation*, qu'ils n'ont jamais vus.
""",
    "stable_loops": """\
### Des boucles internes qui continuent d'apprendre
Donnez à un apprenant à gradient plus de pas internes qu'il n'en a eu pendant son méta-entraînement et il
peut *empirer* : son point de départ a été réglé pour que ses quelques pas par défaut tombent juste, et les
pas suivants, de même taille, vont trop loin. Des modèles antérieurs le faisaient ici (Meta-SGD tombait de
93 % à 70 % sur des tâches à 10 classes au pas 10) ; ceux livrés maintenant ont été méta-entraînés pour ne
pas le faire : déplacez le curseur *Pas internes* dans **Comparer les algorithmes**, chacun se maintient ou
progresse au-delà de ses pas par défaut. Les travaux publiés stabilisent la boucle interne de plusieurs
façons (Antoniou et al. 2019, « How to train your MAML ») :
* une **perte sur plusieurs pas** : la boucle externe note le modèle après *chaque* pas interne, pas
  seulement le dernier, si bien que chaque pas doit aider ;
* un méta-entraînement sur une **plage de nombres de pas**, et de classes, pour qu'un seul modèle serve pour
  tout nombre de pas et de classes ;
* un **taux d'apprentissage interne plus petit**, ou un taux appris pour chaque couche et chaque pas : MAML et
  Meta-SGD ont appris ici un premier pas de la tête de classes de deux fois et demie à trois fois et demie la
  taille de base (depuis une tête de zéros, il ne fixe que l'assurance du modèle) et des pas suivants plus
  petits (jusqu'à un quart ou un tiers), là où une seule taille allait trop loin ;
* un **pas de la tête de classes qui ne grandit pas avec le nombre de classes** : un pas de la tête qui
  augmente avec les classes convient aux largeurs vues pendant le méta-entraînement mais va trop loin sur des
  tâches plus larges ;
* des méta-gradients du **premier ordre** au début du méta-entraînement et exacts ensuite, et un taux
  d'apprentissage externe qui diminue en fin d'entraînement.

Dans l'onglet **Navigation 2-D**, MAML et MAML du premier ordre ont été méta-entraînés avec la perte sur
plusieurs pas, de 1 à 3 pas, avec un petit pas interne : un pas divise par deux la distance au but et les
suivants l'y maintiennent (entraîné pour un seul pas dix fois plus grand, le deuxième pas de MAML allait trop
loin).
""",
    "three_pictures": (
        "### Trois images du méta-apprentissage, côte à côte\n\n"
        "| | Classification avec peu d'exemples | Régression de sinusoïdes | Navigation 2-D (renforcement) |\n"
        "|---|---|---|---|\n"
        "| **Une tâche** | distinguer N nouvelles classes de caractères | ajuster une sinusoïde (son amplitude et "
        "sa phase) | atteindre un but caché dans le plan |\n"
        "| **Ensemble de support** | K dessins étiquetés de chaque classe | K points (x, y) de l'onde | des "
        "épisodes que la politique échantillonne elle-même, avec leurs récompenses |\n"
        "| **Boucle interne** | pas de gradient sur l'entropie croisée du support | pas de gradient sur l'erreur "
        "quadratique du support | pas de gradient de politique sur le retour des épisodes échantillonnés |\n"
        "| **Évalué sur** | la précision sur les dessins de requête | l'erreur sur toute l'onde | le retour de "
        "nouveaux épisodes après adaptation |\n"
        "| **Boucle externe** | que le modèle adapté classe bien les requêtes, sur de nombreuses tâches | qu'un "
        "pas ajuste n'importe quelle onde | que quelques pas atteignent n'importe quel but (son méta-gradient "
        "passe aussi par la façon dont les épisodes ont été échantillonnés) |\n"),
    "accuracy_missing": """\
### Précision mesurée
Pas encore mesurée : le tableau de référence (`docs/accuracy.md`) apparaîtra ici une fois les modèles fournis
évalués.
""",
    "api_help": """\
### L'utiliser depuis un programme
Les principales actions de cette page sont aussi des points d'accès d'API (voir *Use via API* en bas de la page).
Le principal, `/classify`, adapte un modèle à des images étiquetées et classe des requêtes en un seul appel :

```python
from gradio_client import Client, handle_file

client = Client("http://127.0.0.1:7860/")
result = client.predict(
    "maml",                                            # algorithme
    [handle_file("a1.png"), handle_file("b1.png")],    # images de support
    ["alpha", "beta"],                                 # une étiquette par image de support
    [handle_file("query.png")],                        # images à classer
    None,                                              # pas internes (None : ceux du modèle)
    None,                                              # taux d'apprentissage interne (None : celui du modèle)
    api_name="/classify",
)
result["classes"], result["probabilities"], result["predictions"], result["history"]
```
Vous pouvez aussi l'essayer dans le formulaire ci-dessous.
""",
    "gallery_omniglot": ("Galerie : **alphabets d'évaluation d'Omniglot** (659 caractères que les modèles n'ont "
                         "jamais vus pendant le méta-entraînement)."),
    "gallery_synthetic": "Galerie : **glyphes synthétiques** (caractères inventés, dessinés par un programme).",
    "gallery_loading": "Omniglot est en cours de chargement ; la galerie basculera dessus quand il sera prêt.",
    "gallery_downloading": ("Omniglot n'est pas sur cette machine ; l'ensemble d'évaluation se télécharge en "
                            "arrière-plan."),
    "gallery_unavailable": "Omniglot n'est pas disponible sur cette machine.",
    "navigation_intro": """\
Un point part du centre et choisit une vitesse à chacun de 100 pas ; sa récompense est l'opposé de sa distance à
un **but caché**. La tâche, c'est le but. **Cliquez n'importe où dans le carré** pour en cacher un (ou tirez-en un
au hasard) : la politique échantillonne 20 épisodes, fait un pas de gradient de politique sur leurs récompenses,
en échantillonne 20 autres, et ainsi de suite. Les trajets gris sont avant adaptation, puis bleus, verts et
orange après les pas 1, 2 et 3. MAML a été méta-entraîné pour que ces quelques pas se dirigent vers le but ; la
référence, entraînée sur tous les buts à la fois, a appris un comportement moyen. Le carré en tirets est la zone
où le méta-entraînement a tiré ses buts.
""",
    "episode_hint": "Appuyez sur *Nouvel épisode* pour en tirer un (ou sur *Lancer*, qui en tire un si besoin).",
    "nav_hint": "Cliquez dans le carré pour cacher un but.",
    "tab_classifier": "Classifieur avec peu d'exemples",
    "tab_compare": "Comparer les algorithmes",
    "tab_sine": "Régression de sinusoïdes (en classe)",
    "tab_navigation": "Navigation 2-D (renforcement)",
    "tab_learn": "Comprendre",
    "heading_capture": "### 1. Dessinez ou montrez un caractère",
    "heading_classes": "### 2. Vos classes",
    "heading_adapt": "### 3. Adapter : la boucle interne",
    "heading_queries": "### 4. Requêtes : que pense le modèle adapté de ces images ?",
    "heading_save": "### 5. Enregistrer et partager",
    "heading_outer": "### 6. Regardez la boucle externe : méta-entraînez un modèle vous-même",
    "heading_sine_train": "### Méta-entraînez MAML vous-même",
    "heading_nav_train": ("### Méta-entraînez MAML vous-même (environ deux minutes sur deux cœurs de CPU pour 100 "
                          "itérations)"),
    "label_pad": "Tablette",
    "label_webcam": "Webcam",
    "label_live": "Aperçu en direct de la tablette",
    "label_pad_preview": "Aperçu de la tablette",
    "label_num_classes": "Nombre de classes",
    "label_k_gallery": "Dessins par choix dans la galerie (K)",
    "label_class_name": "Classe {n} : nom",
    "label_class_examples": "Classe {n} : exemples",
    "label_upload": "Importer",
    "label_drawing": "Dessin",
    "label_photo": "Photo",
    "label_gallery": "Galerie",
    "label_remove": "Retirer la sélection",
    "label_clear": "Vider",
    "label_algorithm": "Algorithme",
    "label_steps": "Pas internes",
    "label_lr": "Taux d'apprentissage interne",
    "label_adapt": "Adapter",
    "label_adapt_plot": "Adaptation",
    "label_step": "Pas affiché ci-dessous",
    "label_queries": "Requêtes (cliquez sur une requête pour la sélectionner)",
    "label_classify": "Classer",
    "label_pred_plot": "Prédictions au pas choisi",
    "label_pred_table": "Prédictions (tableau)",
    "label_embed_plot": "Carte des plongements au pas choisi",
    "label_download_task": "Télécharger la tâche",
    "label_open_task": "Ouvrir une tâche",
    "label_download_classifier": "Télécharger le classifieur",
    "label_save_again": "Enregistrer à nouveau le dernier fichier",
    "label_live_algorithm": "Algorithme à méta-entraîner",
    "label_live_seconds": "Durée d'entraînement (secondes)",
    "label_outer_plot": "Boucle externe",
    "label_meta_train": "Méta-entraîner",
    "label_n_way": "N classes (N-way)",
    "label_k_shot": "K exemples (K-shot)",
    "label_queries_per_class": "Requêtes par classe",
    "label_inner_steps": "Pas internes",
    "label_new_episode": "Nouvel épisode",
    "label_run_compare": "Lancer tous les algorithmes sur cet épisode",
    "label_support_set": "Ensemble de support (les exemples étiquetés, une colonne par classe)",
    "label_comparison": "Comparaison",
    "label_results": "Résultats (précision sur les requêtes)",
    "label_amplitude": "Amplitude",
    "label_phase": "Phase",
    "label_k_points": "K points",
    "label_sine_steps": "Pas",
    "label_learning_rate": "Taux d'apprentissage",
    "label_points_seed": "Graine des points",
    "label_maml_model": "Modèle MAML",
    "label_new_points": "Nouveaux points",
    "label_sine_plot": "Sinusoïde",
    "label_iterations": "Itérations de méta-entraînement",
    "label_training_seed": "Graine de l'entraînement",
    "label_train_maml": "Méta-entraîner MAML",
    "label_meta_training_plot": "Méta-entraînement",
    "label_policy": "Politique",
    "label_episodes_seed": "Graine des épisodes",
    "label_random_goal": "But au hasard",
    "label_nav_field": "MAML : cliquez pour placer le but",
    "label_nav_baseline": "référence (pré-entraînée sur tous les buts)",
    "label_nav_returns": "Retour par pas",
    "label_try_classify": "Essayer /classify ici",
    "info_num_classes": "Combien de classes (caractères) le modèle doit distinguer.",
    "info_k_gallery": "Combien de dessins le bouton Galerie met dans une classe.",
    "info_algorithm": "Quel méta-apprenant s'adapte à vos classes.",
    "info_steps": "Pas internes : pas de gradient faits sur vos exemples. 0 = le point de départ pré-entraîné.",
    "info_lr": "Taux d'apprentissage interne : la taille de chaque pas. Beaucoup trop grand, le modèle diverge.",
    "info_live_algorithm": ("Les Prototypical Networks apprennent le plus vite ; first-order MAML a besoin de bien "
                            "plus de temps pour battre le hasard."),
    "info_live_seconds": ("Durée de la boucle externe (les deux cœurs de processeur de l'application sont occupés "
                          "pendant ce temps)."),
    "info_step_shown": ("Quel pas interne montrent les prédictions et la carte des plongements ci-dessous (0 = avant "
                        "adaptation)."),
    "info_n_way": "N-way : combien de caractères dans l'épisode.",
    "info_k_shot": "K-shot : combien d'exemples étiquetés de chaque caractère.",
    "info_queries": "Requêtes par classe : dessins non étiquetés à classer (leurs réponses sont connues).",
    "info_compare_steps": ("Pas internes des algorithmes à base de gradient (chacun utilise son propre taux "
                           "d'apprentissage par défaut)."),
    "info_amplitude": "Hauteur de l'onde.",
    "info_phase": "Décalage de l'onde vers la droite.",
    "info_k_points": "K : combien de points de la nouvelle onde les modèles voient.",
    "info_sine_steps": "Pas de gradient que chaque modèle fait sur les K points.",
    "info_sine_lr": "Taille de ces pas de gradient.",
    "info_iterations": ("Itérations de méta-entraînement, chacune sur un lot de 25 nouvelles ondes (2000 prennent "
                        "environ une demi-minute)."),
    # --- texts made while the page answers ---------------------------------------------------------------
    "learn_family": "**Ceux qui {what} :**",
    "and": " et ",
    "note_pair": ("{summary} Les pas et le taux d'apprentissage ne s'appliquent pas ; le graphique montre le {label} "
                  "de chaque requête avec chaque classe, et la carte des plongements ce que fait son module de "
                  "plongement."),
    "note_metric": ("{summary} Les pas et le taux d'apprentissage ne s'appliquent pas ; la carte des plongements "
                    "montre ce qu'il fait."),
    "note_steps": "{summary} Chaque tâche commence avec {head}.",
    "checkpoint_defaults": " Valeurs par défaut du modèle enregistré : {steps} pas, taux d'apprentissage {lr:g}.",
    "device": "Les modèles tournent sur **{type}**",
    "device_threads": " ({threads} fils d'exécution)",
    "device_bfloat16": ", pas internes en bfloat16",
    "generic_error": "Une erreur s'est produite sur le serveur (elle a été consignée). Veuillez réessayer.",
    "col_query": "requête", "col_prediction": "prédiction", "col_confidence": "confiance",
    "col_answer": "bonne réponse", "col_correct": "juste ?",
    "right": "✓ juste", "wrong": "✗ faux", "tie": "une égalité",
    "yours": "Votre modèle méta-entraîné",
    "image": "image",
    "not_adapted": "Appuyez d'abord sur « Adapter » : le modèle n'a pas encore appris vos classes.",
    "classes_range": "Utilisez de {low} à {high} classes ; il y en a {count}.",
    "same_name": "Deux classes s'appellent {name!r} : donnez à chaque classe son propre nom.",
    "no_examples": ("La classe {n} ({name!r}) n'a pas encore d'exemples : importez-en, ajoutez un dessin ou une "
                    "photo, ou appuyez sur « Galerie »."),
    "too_many_examples": ("La classe {n} ({name!r}) a {count} exemples ; au plus {limit} par classe sont utilisés. "
                          "Retirez-en."),
    "bad_example": "Classe {n} ({name!r}), exemple {k} : {reason}",
    "bad_query": "Requête {n} ({name}) : {reason}",
    "map_after_adapt": "La carte des plongements apparaît après Adapter.",
    "before_adapting": "avant adaptation (pas 0)",
    "after_one_step": "après 1 pas interne",
    "after_steps": "après {n} pas internes",
    "no_inner_steps": "sans pas interne",
    "map_title": "Plongements {when}<br><sup>ACP 2-D, mêmes axes à chaque pas</sup>",
    "add_queries": "Ajoutez des requêtes (import, dessin, photo ou galerie) pour voir les prédictions.",
    "pair_title": "{title} : le {label} de chaque requête avec chaque classe (sans pas interne)",
    "no_steps_scores": ("{title} n'a pas de pas interne. Ajoutez des requêtes pour voir leur {label} avec chaque "
                        "classe."),
    "no_steps_map": "{title} n'a pas de pas interne : la carte ci-dessous montre ce qu'il fait.",
    "adapting_title": "{title} : adaptation à vos {count} classes",
    "not_trained": ("Vous n'avez pas encore méta-entraîné de modèle : appuyez d'abord sur « Méta-entraîner » dans la "
                    "section 6."),
    "diverged": ("L'adaptation a divergé au pas {step} : le taux d'apprentissage {lr:g} est trop grand. Les "
                 "prédictions utilisent le pas {used}, le dernier correct. Essayez un taux d'apprentissage plus "
                 "petit."),
    "exploded": ("La perte de support a explosé (jusqu'à {peak:.3g}, partant de {start:.3g}) : le taux "
                 "d'apprentissage {lr:g} est trop grand et les pas vont trop loin. Essayez un taux d'apprentissage "
                 "plus petit."),
    "adapting": "Adaptation",
    "step_status": "**{title}** : pas {step} sur {steps} · perte de support {loss:.3f}",
    "adapted_status": ("**{title}** s'est adapté à {classes} classes à partir de {examples} exemples : {steps} pas au "
                       "taux d'apprentissage {lr:g} en {ms:.0f} ms. Précision sur le support {accuracy:.0f} %, perte "
                       "{loss:.3f}. Déplacez le curseur *pas* pour voir chaque pas."),
    "fitted_status": ("**{title}** : {fitted_as} pour {classes} classes à partir de {examples} exemples en {ms:.0f} "
                      "ms (sans pas interne)."),
    "no_ink": ("Pas d'encre nette sur la photo. Les modèles connaissent les caractères manuscrits : montrez un "
               "caractère tracé au feutre foncé et épais sur du papier blanc, au milieu de l'image, et réessayez."),
    "no_camera": ("La webcam n'est pas allumée : appuyez sur l'image de la caméra au-dessus des cartes de classe, "
                  "autorisez le navigateur à utiliser la caméra, puis appuyez de nouveau sur Photo."),
    "empty_pad": ("La tablette est vide : dessinez d'abord un caractère (si vous venez d'en dessiner un, il est "
                  "peut-être encore en cours d'enregistrement : attendez une seconde et appuyez de nouveau sur "
                  "Dessin)."),
    "kept_some": "Au plus {limit} images ici ; {room} des {count} nouvelles ont été gardées.",
    "skipped": "Ignoré ce qui n'est pas une image utilisable : {files}",
    "full": "Au plus {limit} images ici : retirez-en une d'abord.",
    "select_first": "Cliquez d'abord sur une image pour la sélectionner, puis appuyez sur « Retirer la sélection ».",
    "gallery_first": ("Remplissez d'abord au moins une classe avec « Galerie » : les requêtes de galerie sont de "
                      "nouveaux dessins de ces caractères, donc les bonnes réponses sont connues."),
    "task_needs_examples": ("La classe {n} ({name!r}) n'a pas encore d'exemples : une tâche a besoin d'exemples de "
                            "chaque classe."),
    "choose_task": "Choisissez un fichier de tâche (.zip) enregistré avec « Télécharger la tâche ».",
    "task_classes": ("Cette tâche a {count} classes ; la page en affiche de {low} à {high} (en Python, "
                     "metademo.load_task l'ouvre avec jusqu'à {most} classes)."),
    "opened_task": ("Tâche ouverte : {count} classes ({names}), {examples} exemples et {queries} requêtes. Appuyez "
                    "sur **Adapter**."),
    "nothing_to_download": ("Appuyez d'abord sur « Adapter » : il n'y a pas encore de classifieur adapté à "
                            "télécharger."),
    "train_first": ("⚠️ Vous n'avez pas encore méta-entraîné de modèle : appuyez sur **Méta-entraîner** dans la "
                    "section 6, puis adaptez avec lui ici."),
    "your_model": "Votre modèle : {note}. ",
    "live_runs": "Le méta-entraînement en direct lance {titles}.",
    "busy": ("Quelqu'un méta-entraîne un modèle en ce moment (un à la fois, car cela occupe tout le processeur). "
             "Réessayez dans une minute."),
    "loading_alphabets": "Chargement des alphabets d'entraînement",
    "meta_training_title": "Méta-entraînement de {title} depuis un départ aléatoire",
    "meta_training": "Méta-entraînement",
    "iteration_status": ("Itération {iteration} · {seconds:.0f} s d'entraînement · précision de validation "
                         "**{accuracy:.0f} %** sur des caractères inédits · données : {data}"),
    "done_status": ("Terminé : {iteration} itérations de la boucle externe en {seconds:.0f} s ; la précision de "
                    "validation est passée de {start:.0f} % (départ aléatoire) à **{accuracy:.0f} %**. *{yours}* est "
                    "maintenant choisi dans la section 3 : appuyez sur **Adapter** pour l'utiliser sur vos classes, à "
                    "côté des modèles pré-entraînés."),
    "inner_step": "pas interne",
    "loss_axis": "perte (entropie croisée)",
    "loss_axis_log": "perte (entropie croisée, échelle logarithmique)",
    "accuracy_axis": "précision (%)",
    "chance": "hasard ({percent:.0f} %)",
    "uniform_loss": "perte d'une réponse uniforme (ln {n})",
    "diverged_mark": "divergence",
    "support_loss": "perte de support",
    "support_accuracy": "précision sur le support (%)",
    "query_accuracy": "précision sur les requêtes (%)",
    "queries_trace": "requêtes",
    "axis_1": "axe principal 1",
    "axis_2": "axe principal 2",
    "tie_mark": " (égalité)",
    "query_row": "Requête {n} : <b>{shown}</b> ({percent:.0f} %)",
    "it_is": " (c'est {name})",
    "query": "requête",
    "class": "classe",
    "validation_trace": "validation : tâches à 5 classes et 1 exemple, caractères inédits (%)",
    "training_trace": "tâches d'entraînement (%)",
    "outer_axis": "itération de la boucle externe (un méta-lot de tâches chacune)",
    "outer_accuracy_axis": "précision sur les requêtes après adaptation (%)",
    "col_algorithm": "algorithme", "col_inner_steps": "pas internes", "col_before": "avant adaptation (pas 0)",
    "col_after_last": "après le dernier pas", "col_after_default": "après ses pas par défaut",
    "col_time": "temps (ms)",
    "default_steps_cell": "{percent:.0f} % ({steps} pas)",
    "too_many_drawings": ("K-shot + requêtes par classe doit valoir au plus {most} (chaque caractère a {most} "
                          "dessins) ; reçu {k} + {q}."),
    "support_caption": "classe {n} : {key}",
    "kind_synthetic": "glyphes synthétiques", "kind_omniglot": "caractères d'évaluation d'Omniglot",
    "episode_info": ("**Épisode à {n} classes et {k} exemples (N-way, K-shot)** de {kind} (jamais vus par les "
                     "modèles), {q} requêtes par classe : {characters}"),
    "adapting_algorithm": "Adaptation de {title}",
    "skipped_algorithm": "{title} ignoré : {reason}",
    "nothing_to_compare": "Aucun modèle pré-entraîné n'a pu être chargé : il n'y a rien à comparer.",
    "sine_pretrained": "MAML (pré-entraîné)",
    "choice_pretrained": "MAML pré-entraîné", "choice_trained": "le MAML que vous avez entraîné",
    "sine_yours": "votre MAML ({iterations} itérations)",
    "sine_baseline": "référence (pré-entraînée sur toutes les ondes)",
    "no_trained_maml": ("Vous n'avez pas encore méta-entraîné de MAML (appuyez sur « Méta-entraîner MAML ») ; le "
                        "modèle pré-entraîné est affiché."),
    "sine_status": "Pas {step} sur {steps}. Erreur sur toute l'onde (MSE) : {errors}",
    "diverged_word": "divergence",
    "sine_diverged": "Un modèle a divergé : le taux d'apprentissage {lr:g} est trop grand pour ces points.",
    "meta_training_maml": "Méta-entraînement de MAML",
    "sine_iteration": "Itération {iteration} sur {iterations} · méta-perte {loss:.3f} · {seconds:.0f} s",
    "sine_done": ("Terminé : {iterations} itérations en {seconds:.0f} s, méta-perte finale {loss:.3f}. « Le MAML "
                  "que vous avez entraîné » est maintenant choisi ci-dessus : appuyez sur **Adapter** pour le voir "
                  "apprendre une nouvelle onde."),
    "panel_title": "<b>{name}</b> : après {step} pas sur {steps}",
    "true_wave": "vraie onde", "prediction": "prédiction", "earlier_steps": "pas précédents",
    "k_points_trace": "K = {k} points",
    "meta_loss": "méta-perte", "meta_iteration": "itération de méta-entraînement",
    "loss_after_adapting": "perte après adaptation (MSE)",
    "sine_training_title": "Méta-entraînement de MAML sur des sinusoïdes",
    "whole_number": "{what} : un nombre entier de {low} à {high} est attendu ; reçu {got}",
    "number_above": "{what} : un nombre supérieur à {low} et d'au plus {high} est attendu ; reçu {got}",
    "number_at_least": "{what} : un nombre d'au moins {low} et d'au plus {high} est attendu ; reçu {got}",
    "what_classes": "Nombre de classes", "what_gallery": "Nombre de dessins de galerie", "what_n_way": "N-way",
    "what_k_shot": "K-shot", "what_queries": "Requêtes par classe", "what_inner_steps": "Pas internes",
    "what_steps": "Pas", "what_seed": "Graine", "what_iterations": "Itérations",
    "what_training_time": "Durée d'entraînement", "what_lr": "Taux d'apprentissage interne",
    "nav_status": "But ({x:+.2f}, {y:+.2f}). Retour avant adaptation → après {steps} pas : {returns}",
    "nav_paths": "{name} : trajets après chaque pas",
    "nav_done": ("Terminé : {iterations} itérations. « Le MAML que vous avez entraîné » est choisi : cliquez sur un "
                 "but pour le voir s'adapter."),
    "nav_iteration": ("Itération {iteration} sur {iterations} · {seconds:.0f} s · retour {before:.1f} avant "
                      "adaptation, {after:.1f} après un pas"),
    "nav_returns_title": "Retour par pas (moyenne de 20 épisodes)",
    "inner_steps_axis": "pas internes", "return_axis": "retour",
    "before_adapting_trace": "avant adaptation", "after_one_step_trace": "après 1 pas",
    "nav_training_title": "Retour sur les buts de validation pendant le méta-entraînement",
    "outer_iterations": "itérations externes",
}

#: The algorithm registry's descriptions ("field:name"; "family:<family>" for a family's).
_ZERO_HEAD = ("une tête de zéros : il prédit toutes les classes à égalité (le hasard) jusqu'à ce que les pas internes "
              "aient appris")
ALGORITHMS = {
    "family:initialisation": "apprennent une initialisation que quelques pas de gradient adaptent à chaque tâche",
    "family:metric": "comparent des plongements avec une métrique fixe",
    "family:relation": "apprennent la comparaison elle-même",
    "summary:maml": ("MAML a appris un point de départ à partir duquel quelques pas de gradient sur vos exemples les "
                     "ajustent bien. Sa boucle externe dérive *à travers* ces pas."),
    "summary:fomaml": ("First-order MAML : comme MAML, mais moins coûteux à méta-entraîner, car sa boucle externe "
                       "ignore les dérivées secondes des pas internes."),
    "summary:metasgd": ("Meta-SGD a appris son point de départ *et* une taille de pas pour chaque poids (le taux "
                        "d'apprentissage ici les met à l'échelle), si bien que chaque pas peut aller loin."),
    "summary:reptile": ("Reptile a appris son point de départ en s'entraînant à plusieurs reprises sur une seule "
                        "tâche pendant quelques pas et en rapprochant le point de départ du résultat."),
    "summary:protomaml": ("Proto-MAML est MAML avec une tête qui part des moyennes par classe des plongements : les "
                          "pas internes affinent donc un classifieur déjà bon."),
    "summary:protonet": ("Les Prototypical Networks n'ont pas de pas internes : chaque classe est le plongement moyen "
                         "(son *prototype*) de ses exemples, et une requête va au prototype le plus proche."),
    "summary:matchingnet": ("Les Matching Networks n'ont pas de pas internes : une requête regarde chaque exemple, "
                            "pondère chacun selon la ressemblance de direction de leurs plongements (similarité "
                            "cosinus), et chaque classe reçoit le poids de ses exemples."),
    "summary:relationnet": ("Les Relation Networks apprennent la comparaison elle-même : un petit réseau regarde une "
                            "requête à côté des exemples de chaque classe et donne à la paire un score de relation de "
                            "0 (sans rapport) à 1 (même classe)."),
    **{f"head_description:{name}": _ZERO_HEAD for name in ("maml", "fomaml", "metasgd", "reptile")},
    "head_description:protomaml": ("une tête construite à partir des moyennes par classe des plongements des "
                                   "exemples (prototypes) : il classe déjà comme les Prototypical Networks avant le "
                                   "premier pas"),
    "fitted_as:protonet": "prototypes",
    "fitted_as:matchingnet": "exemples plongés sur lesquels porter l'attention",
    "fitted_as:relationnet": "cartes de caractéristiques des classes à comparer",
    "pair_score_label:relationnet": "score de relation",
    **{f"centre_name:{name}": "centre de classe" for name in ("maml", "fomaml", "metasgd", "reptile", "protomaml",
                                                               "matchingnet", "relationnet")},
    "centre_name:protonet": "prototype",
}
